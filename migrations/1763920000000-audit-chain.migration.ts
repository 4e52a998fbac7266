import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log becomes an append-only, hash-chained trail.
 *
 * Threat model: someone with write access to the registry (a bug, a stolen application
 * credential, an operator at a psql prompt) rewrites or removes evidence of what was done.
 * - Append-only: statement triggers refuse UPDATE, DELETE and TRUNCATE, for the owner and
 *   superusers too (triggers fire for every role). Only a superuser can get past them, by
 *   disabling triggers or with `session_replication_role = replica`, and then:
 * - Tamper-evident: each entry stores `prev_hash` (its predecessor's hash) and `hash`, SHA-256
 *   over a canonical serialisation of its own fields and `prev_hash`. Changing, removing or
 *   inserting an entry breaks the chain at that point; `audit:verify` recomputes it in Node
 *   with its own implementation (audit-chain.ts), not by trusting these SQL functions.
 *   `audit_chain_head` records the last entry, so removing entries from the end shows too.
 *   (Someone who can rewrite the whole chain *and* the head can forge a consistent history;
 *   anchoring the head hash outside the database, e.g. in a periodic log line, closes that.)
 *
 * Chain order is id order. The BEFORE INSERT trigger locks the head row first, then takes the
 * id from the sequence, the time from the clock and the predecessor from the head: appends are
 * serialised until their transaction ends, so two concurrent transactions can never chain to
 * the same predecessor, and ids follow chain order. (Under REPEATABLE READ the row lock fails
 * with a serialization error instead of forking: the transaction is refused, not misfiled.)
 * The unique index on `prev_hash` refuses a fork even if the lock were bypassed.
 *
 * Canonical form (version "audit-v1"): the concatenation of `audit-v1` and, for each field in
 * this order, `-` for NULL or `<UTF-8 byte length>:<text>`: id, created_at (UTC ISO 8601 with
 * milliseconds, e.g. 2025-11-23T10:00:00.123Z; the trigger truncates the time to milliseconds),
 * source, actor, operator_id, action, tenant_id, request_id, ip, user_agent, before, after,
 * details (jsonb fields as PostgreSQL's jsonb text output), prev_hash. The first entry's
 * prev_hash is 64 zeros. Length prefixes make the encoding unambiguous without escaping.
 */
export class AuditChain1763920000000 implements MigrationInterface {
  name = 'AuditChain1763920000000';

  async up(runner: QueryRunner): Promise<void> {
    // Old replicas keep appending during a deploy; they wait here until the chain exists, then
    // their inserts go through the trigger like everyone else's.
    await runner.query('LOCK TABLE platform.audit_log IN SHARE ROW EXCLUSIVE MODE');
    await runner.query(`
      ALTER TABLE platform.audit_log
        ADD COLUMN operator_id text,
        ADD COLUMN source text CHECK (source IN ('api', 'worker', 'cli')),
        ADD COLUMN ip text,
        ADD COLUMN user_agent text,
        ADD COLUMN before jsonb,
        ADD COLUMN after jsonb,
        ADD COLUMN prev_hash text,
        ADD COLUMN hash text,
        -- The trigger assigns ids once it holds the chain lock, so id order is chain order.
        ALTER COLUMN id DROP DEFAULT`);
    await runner.query(`
      CREATE TABLE platform.audit_chain_head (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        last_id bigint,
        last_hash text NOT NULL
      )`);
    await runner.query(`
      CREATE FUNCTION platform.audit_hash_field(value text) RETURNS text
        LANGUAGE sql IMMUTABLE AS $$
          SELECT CASE WHEN value IS NULL THEN '-' ELSE octet_length(value) || ':' || value END
        $$`);
    await runner.query(`
      CREATE FUNCTION platform.audit_entry_hash(e platform.audit_log) RETURNS text
        LANGUAGE sql STABLE AS $$
          SELECT encode(sha256(convert_to(
            'audit-v1'
            || platform.audit_hash_field(e.id::text)
            || platform.audit_hash_field(
                 to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
            || platform.audit_hash_field(e.source)
            || platform.audit_hash_field(e.actor)
            || platform.audit_hash_field(e.operator_id)
            || platform.audit_hash_field(e.action)
            || platform.audit_hash_field(e.tenant_id::text)
            || platform.audit_hash_field(e.request_id)
            || platform.audit_hash_field(e.ip)
            || platform.audit_hash_field(e.user_agent)
            || platform.audit_hash_field(e.before::text)
            || platform.audit_hash_field(e.after::text)
            || platform.audit_hash_field(e.details::text)
            || platform.audit_hash_field(e.prev_hash),
            'UTF8')), 'hex')
        $$`);

    // Entries written before this migration join the chain as they are (times to milliseconds).
    await runner.query(`
      UPDATE platform.audit_log SET created_at = date_trunc('milliseconds', created_at)`);
    await runner.query(`
      DO $$
      DECLARE
        entry platform.audit_log;
        previous text := repeat('0', 64);
        last bigint;
      BEGIN
        FOR entry IN SELECT * FROM platform.audit_log ORDER BY id LOOP
          entry.prev_hash := previous;
          entry.hash := platform.audit_entry_hash(entry);
          UPDATE platform.audit_log SET prev_hash = entry.prev_hash, hash = entry.hash
           WHERE id = entry.id;
          previous := entry.hash;
          last := entry.id;
        END LOOP;
        INSERT INTO platform.audit_chain_head (last_id, last_hash) VALUES (last, previous);
      END $$`);
    await runner.query(`
      ALTER TABLE platform.audit_log
        ALTER COLUMN prev_hash SET NOT NULL,
        ALTER COLUMN hash SET NOT NULL,
        ADD CONSTRAINT audit_log_hash_check CHECK (hash ~ '^[0-9a-f]{64}$'),
        ADD CONSTRAINT audit_log_prev_hash_key UNIQUE (prev_hash)`);

    await runner.query(`
      CREATE FUNCTION platform.audit_log_append() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        head platform.audit_chain_head;
      BEGIN
        -- The chain lock: held until this transaction ends (see the migration's comment).
        SELECT * INTO STRICT head FROM platform.audit_chain_head FOR UPDATE;
        NEW.id := nextval('platform.audit_log_id_seq');
        NEW.created_at := date_trunc('milliseconds', clock_timestamp());
        NEW.prev_hash := head.last_hash;
        NEW.hash := platform.audit_entry_hash(NEW);
        UPDATE platform.audit_chain_head SET last_id = NEW.id, last_hash = NEW.hash;
        RETURN NEW;
      END $$`);
    await runner.query(`
      CREATE TRIGGER audit_log_append BEFORE INSERT ON platform.audit_log
        FOR EACH ROW EXECUTE FUNCTION platform.audit_log_append()`);

    // Statement triggers: they refuse even an UPDATE or DELETE that matches no row.
    await runner.query(`
      CREATE FUNCTION platform.audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await runner.query(`
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON platform.audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION platform.audit_log_refuse_change()`);
    await runner.query(`
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON platform.audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION platform.audit_log_refuse_change()`);
    // The head only moves forward, and always exists.
    await runner.query(`
      CREATE TRIGGER audit_chain_head_keep BEFORE DELETE OR TRUNCATE
        ON platform.audit_chain_head
        FOR EACH STATEMENT EXECUTE FUNCTION platform.audit_log_refuse_change()`);
    await runner.query(`
      CREATE FUNCTION platform.audit_chain_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.last_id IS NULL OR NEW.last_id <= coalesce(OLD.last_id, 0) THEN
          RAISE EXCEPTION 'audit_chain_head only moves forward'
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`);
    await runner.query(`
      CREATE TRIGGER audit_chain_head_forward BEFORE UPDATE ON platform.audit_chain_head
        FOR EACH ROW EXECUTE FUNCTION platform.audit_chain_head_forward()`);
    // Grants nobody relies on, withdrawn so that a future role cannot inherit them.
    await runner.query(
      'REVOKE UPDATE, DELETE, TRUNCATE ON platform.audit_log, platform.audit_chain_head FROM PUBLIC',
    );

    await runner.query(
      'CREATE INDEX audit_log_operator_idx ON platform.audit_log (operator_id, id)',
    );
    await runner.query('CREATE INDEX audit_log_action_idx ON platform.audit_log (action, id)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX platform.audit_log_action_idx');
    await runner.query('DROP INDEX platform.audit_log_operator_idx');
    await runner.query('DROP TRIGGER audit_chain_head_forward ON platform.audit_chain_head');
    await runner.query('DROP TRIGGER audit_chain_head_keep ON platform.audit_chain_head');
    await runner.query('DROP TRIGGER audit_log_no_truncate ON platform.audit_log');
    await runner.query('DROP TRIGGER audit_log_append_only ON platform.audit_log');
    await runner.query('DROP TRIGGER audit_log_append ON platform.audit_log');
    await runner.query('DROP FUNCTION platform.audit_chain_head_forward()');
    await runner.query('DROP FUNCTION platform.audit_log_refuse_change()');
    await runner.query('DROP FUNCTION platform.audit_log_append()');
    await runner.query('DROP FUNCTION platform.audit_entry_hash(platform.audit_log)');
    await runner.query('DROP FUNCTION platform.audit_hash_field(text)');
    await runner.query('DROP TABLE platform.audit_chain_head');
    await runner.query(`
      ALTER TABLE platform.audit_log
        ALTER COLUMN id SET DEFAULT nextval('platform.audit_log_id_seq'),
        DROP CONSTRAINT audit_log_prev_hash_key,
        DROP CONSTRAINT audit_log_hash_check,
        DROP COLUMN operator_id, DROP COLUMN source, DROP COLUMN ip, DROP COLUMN user_agent,
        DROP COLUMN before, DROP COLUMN after, DROP COLUMN prev_hash, DROP COLUMN hash`);
  }
}
