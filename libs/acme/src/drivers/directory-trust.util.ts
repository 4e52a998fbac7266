import * as acme from 'acme-client';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';

/** An extra CA trusted for one directory's origin, on top of Node's bundled roots. */
export interface DirectoryTrust {
  origin: string;
  agent: Agent;
}

/**
 * Why this detour: acme-client 5.x sends every request through one process-wide axios
 * instance (`acme.axios`) and has no per-client option for the HTTPS agent. Setting
 * `acme.axios.defaults.httpsAgent` would make every ACME client in the process (Let's Encrypt
 * included) trust Pebble's self-signed listener. Instead, a client runs its calls inside
 * `withDirectoryTrust`, and one interceptor hands the agent only to requests made within that
 * call chain AND addressed to that directory's origin (ACME servers keep orders,
 * authorizations and certificates on the directory's origin). TLS verification stays on
 * everywhere; other clients and other hosts see the default trust store.
 */
const currentTrust = new AsyncLocalStorage<DirectoryTrust>();
let interceptorInstalled = false;

export function createDirectoryTrust(directoryUrl: string, caPem: string): DirectoryTrust {
  return {
    origin: new URL(directoryUrl).origin,
    agent: new Agent({ ca: [...rootCertificates, caPem] }),
  };
}

/** Runs `fn` so that acme-client's requests to `trust.origin` trust its CA. */
export function withDirectoryTrust<T>(
  trust: DirectoryTrust | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (!trust) return fn();
  installInterceptor();
  return currentTrust.run(trust, fn);
}

function installInterceptor(): void {
  if (interceptorInstalled) return;
  interceptorInstalled = true;
  acme.axios.interceptors.request.use((config) => {
    const trust = currentTrust.getStore();
    if (trust && config.httpsAgent === undefined && originOf(config.url) === trust.origin) {
      config.httpsAgent = trust.agent;
    }
    return config;
  });
}

function originOf(url: string | undefined): string | undefined {
  try {
    return url === undefined ? undefined : new URL(url).origin;
  } catch {
    return undefined;
  }
}
