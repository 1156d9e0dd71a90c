import type { FastifyInstance } from 'fastify';

/** What the API waits on before answering: the store's group commit (see SqliteStore). */
export interface Durability {
  /** Settles when every commit so far is on disk; null when that is already so. */
  whenDurable(): Promise<void> | null;
}

/**
 * Holds each answer until the writes made before it are on disk, so a 2xx to a mutation means
 * durable and no answer shows state a power cut could still take back. Many answers share one
 * sync; with nothing pending an answer goes out at once. Server errors are not held (a failed
 * sync itself becomes one).
 */
export function holdAnswersUntilDurable(app: FastifyInstance, durability: Durability): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    const durable = reply.statusCode < 500 ? durability.whenDurable() : null;
    if (durable === null) {
      done(null, payload);
      return;
    }
    durable.then(
      () => done(null, payload),
      (err: Error) => done(err),
    );
  });
}
