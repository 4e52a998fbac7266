import { isEmail } from 'class-validator';
import { Command, CommandRunner, Option } from 'nest-commander';
import { ControlPlaneException } from '../errors/control-plane.exception';
import { OperatorAccounts } from '../operators/operator-accounts.service';
import { OPERATOR_ROLES, isOperatorRole, type OperatorRole } from '../operators/operator-role';

interface CreateOptions {
  email?: string;
  role?: OperatorRole;
  name?: string;
}

/**
 * The way in for the first admin (and a break-glass for later): whoever can run the CLI against
 * the registry can already do anything, so it needs no credential. The password is generated and
 * printed once; nothing is read from stdin, so it runs in CI and scripts.
 */
@Command({
  name: 'operators:create',
  description: 'Create an operator account and print its generated password (once)',
})
export class OperatorsCreateCommand extends CommandRunner {
  constructor(private readonly accounts: OperatorAccounts) {
    super();
  }

  async run(_params: string[], options: CreateOptions): Promise<void> {
    if (!options.email || !options.role) {
      console.error('operators:create needs --email and --role');
      process.exitCode = 2;
      return;
    }
    try {
      const { operator, oneTimePassword } = await this.accounts.create(
        { email: options.email, role: options.role, name: options.name },
        'cli',
      );
      console.log(`created operator ${operator.email} (${operator.role}), id ${operator.id}`);
      console.log(`password (shown once, change it after signing in): ${oneTimePassword}`);
    } catch (error) {
      if (!(error instanceof ControlPlaneException)) throw error;
      console.error(`${error.code}: ${error.message}`);
      process.exitCode = 1;
    }
  }

  @Option({ flags: '--email <email>', description: 'the operator’s e-mail (sign-in name)' })
  parseEmail(value: string): string {
    if (!isEmail(value)) throw new Error('--email must be an e-mail address');
    return value;
  }

  @Option({ flags: '--role <role>', description: `one of ${OPERATOR_ROLES.join(', ')}` })
  parseRole(value: string): OperatorRole {
    if (!isOperatorRole(value))
      throw new Error(`--role must be one of ${OPERATOR_ROLES.join(', ')}`);
    return value;
  }

  @Option({ flags: '--name <name>', description: 'display name' })
  parseName(value: string): string {
    return value;
  }
}
