import { Command, CommandRunner } from 'nest-commander';
import { AuditChainVerifier } from '../audit/audit-chain-verifier.service';

/**
 * `audit:verify`: recomputes the audit chain. Exit code 0 when every entry verifies; 1 with the
 * first broken entry named, for a cron job or a human to act on.
 */
@Command({
  name: 'audit:verify',
  description: 'Prove the audit trail unchanged, or name the first entry that is not',
})
export class AuditVerifyCommand extends CommandRunner {
  constructor(private readonly verifier: AuditChainVerifier) {
    super();
  }

  async run(): Promise<void> {
    const report = await this.verifier.verify();
    if (report.intact) {
      console.log(`audit chain intact: ${report.entries} entries`);
      return;
    }
    console.error(
      `audit chain broken at entry ${report.brokenAt}: ${report.problem} ` +
        `(${report.entries} entries before it verified)`,
    );
    process.exitCode = 1;
  }
}
