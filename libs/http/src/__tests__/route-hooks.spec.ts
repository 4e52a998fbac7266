import Fastify from 'fastify';
import { addRouteHooks } from '../route-hooks';

describe('addRouteHooks', () => {
  it('runs the hooks on the routes of the wanted methods only, after their own', async () => {
    const fastify = Fastify();
    const ran: string[] = [];
    addRouteHooks(fastify, (method) => method === 'PUT', {
      preParsing: (request, _reply, payload, done) => {
        ran.push(`preParsing ${request.method}`);
        done(null, payload);
      },
      preValidation: (request, _reply, done) => {
        ran.push(`preValidation ${request.method}`);
        done();
      },
      preHandler: (request, _reply, done) => {
        ran.push(`preHandler ${request.method}`);
        done();
      },
    });
    fastify.get('/thing', async () => ({ ok: true }));
    fastify.route({
      method: ['PUT', 'POST'],
      url: '/thing',
      preHandler: (_request, _reply, done) => {
        ran.push('own preHandler');
        done();
      },
      handler: async () => ({ ok: true }),
    });
    try {
      expect((await fastify.inject({ method: 'GET', url: '/thing' })).statusCode).toBe(200);
      expect(ran).toEqual([]);
      const put = await fastify.inject({ method: 'PUT', url: '/thing', payload: { a: 1 } });
      expect(put.statusCode).toBe(200);
      expect(ran).toEqual([
        'preParsing PUT',
        'preValidation PUT',
        'own preHandler',
        'preHandler PUT',
      ]);
      // A route of several methods gets them for all of them once one is wanted.
      ran.length = 0;
      await fastify.inject({ method: 'POST', url: '/thing', payload: { a: 1 } });
      expect(ran).toEqual([
        'preParsing POST',
        'preValidation POST',
        'own preHandler',
        'preHandler POST',
      ]);
    } finally {
      await fastify.close();
    }
  });
});
