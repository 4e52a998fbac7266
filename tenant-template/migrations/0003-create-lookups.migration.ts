import type { QueryRunner } from 'typeorm';
import type { TemplateMigration } from '@platform/database';

/** Reference data every tenant gets a copy of; filled by the lookups seed. */
export class CreateLookups0003 implements TemplateMigration {
  readonly version = 3;
  readonly name = 'CreateLookups0003';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE countries (
        alpha2 char(2) PRIMARY KEY,
        alpha3 char(3) NOT NULL UNIQUE,
        numeric_code char(3) NOT NULL UNIQUE,
        name text NOT NULL
      )`);
    await runner.query(`
      CREATE TABLE currencies (
        code char(3) PRIMARY KEY,
        numeric_code char(3) NOT NULL,
        name text NOT NULL,
        minor_unit smallint
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE currencies');
    await runner.query('DROP TABLE countries');
  }
}
