import { Command, CommandRunner } from 'nest-commander';
import { OperatorAccounts } from '../operators/operator-accounts.service';

@Command({ name: 'operators:list', description: 'List operator accounts and their roles' })
export class OperatorsListCommand extends CommandRunner {
  constructor(private readonly accounts: OperatorAccounts) {
    super();
  }

  async run(): Promise<void> {
    const operators = await this.accounts.list();
    console.table(
      operators.map((operator) => ({
        email: operator.email,
        role: operator.role,
        name: operator.name,
        status: operator.disabled ? 'disabled' : 'enabled',
        'last sign-in': operator.lastLoginAt?.toISOString() ?? '',
        id: operator.id,
      })),
    );
    console.log(`${operators.length} operators`);
  }
}
