// Framework floor (see bench/README.md): the same GET of 20 projects from one schema on raw
// node:http + pg, on NestJS with Express and with Fastify, each bare and with our per-request
// stack. Each server in its own process, loaded in turn (autocannon, 32 connections), the order
// reversed every round; prints each one's median req/s (as a share of raw) and server CPU.
'use strict';
const { fork } = require('node:child_process');
const { readFileSync } = require('node:fs');
const autocannon = require('autocannon');

const VARIANTS = ['raw', 'express-bare', 'express-stack', 'fastify-bare', 'fastify-stack'];
const variants = process.env.FLOOR_VARIANTS?.split(',') ?? VARIANTS;
const rounds = Number(process.env.FLOOR_ROUNDS ?? 6);
const seconds = Number(process.env.FLOOR_SECONDS ?? 5);
if (!process.env.FLOOR_DATABASE_URL || !process.env.FLOOR_SCHEMA) {
  throw new Error('Set FLOOR_DATABASE_URL and FLOOR_SCHEMA (a schema with a projects table)');
}

/** User + system CPU of a process so far, in ms (/proc/<pid>/stat, 100 ticks a second). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function load(port, duration) {
  return new Promise((resolve, reject) =>
    autocannon(
      { url: `http://127.0.0.1:${port}/api/projects?limit=20`, connections: 32, duration },
      (error, result) => (error ? reject(error) : resolve(result)),
    ),
  );
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const servers = new Map();
  let port = 47_100;
  for (const variant of variants) {
    port += 1;
    const child = fork(`${__dirname}/server.js`, [variant], {
      env: { ...process.env, PORT: String(port) },
    });
    await new Promise((resolve) => child.once('message', resolve));
    servers.set(variant, { child, port, windows: [] });
    await load(port, seconds); // warm-up, discarded
  }
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 ? variants : [...variants].reverse();
    for (const variant of order) {
      const server = servers.get(variant);
      const before = cpuMs(server.child.pid);
      const result = await load(server.port, seconds);
      const cpu = (cpuMs(server.child.pid) - before) / result.requests.total;
      server.windows.push({ rps: result.requests.average, p99: result.latency.p99, cpu });
      console.log(
        `round ${round} ${variant.padEnd(14)} ${Math.round(result.requests.average)} req/s, ` +
          `p99 ${result.latency.p99} ms, server CPU ${cpu.toFixed(3)} ms/request`,
      );
    }
  }
  const raw = servers.get('raw') && median(servers.get('raw').windows.map((w) => w.rps));
  for (const [variant, { windows, child }] of servers) {
    const rps = median(windows.map((w) => w.rps));
    const share = raw ? ` (${((100 * rps) / raw).toFixed(1)} % of raw)` : '';
    console.log(
      `${variant.padEnd(14)} ${Math.round(rps)} req/s${share}, p99 ${median(windows.map((w) => w.p99))} ms, ` +
        `server CPU ${median(windows.map((w) => w.cpu)).toFixed(3)} ms/request`,
    );
    child.kill();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
