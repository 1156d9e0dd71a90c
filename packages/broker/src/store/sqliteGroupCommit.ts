import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';
import { SagError } from '../errors.js';

interface Waiter {
  /** The write count this waiter needs on disk. */
  upTo: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Group commit for a WAL database opened with `synchronous=NORMAL`: a commit reaches the OS (so it
 * survives the process dying) when it returns, and one fsync of the WAL, run off the event loop,
 * then puts every commit made so far on disk together. With one fsync per commit, a disk that
 * takes 2-3 ms to sync caps writes near 400 a second and stalls every reader meanwhile.
 */
export class WalGroupCommit {
  private fd: number | null = null;
  private written = 0;
  private synced = 0;
  private syncing = false;
  private waiters: Waiter[] = [];
  private closed = false;

  constructor(private readonly walPath: string) {}

  /** Call after each write transaction: starts a sync unless one is running (it will chain). */
  wrote(): void {
    this.written++;
    this.startSync();
  }

  /** Settles once every write made before the call is on disk; null when it already is. */
  whenDurable(): Promise<void> | null {
    if (this.synced >= this.written) return null;
    const upTo = this.written;
    const promise = new Promise<void>((resolve, reject) => this.waiters.push({ upTo, resolve, reject }));
    this.startSync();
    return promise;
  }

  /** Syncs what is left, synchronously, and releases the file (the store is closing). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.synced < this.written) fsyncSync(this.walFd());
      this.settle(this.written, null);
    } catch (err) {
      this.settle(this.written, this.failure(err as Error));
    } finally {
      // An fsync still running in the thread pool closes the file when it returns.
      if (!this.syncing) this.release();
    }
  }

  private release(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private startSync(): void {
    if (this.syncing || this.closed || this.synced >= this.written) return;
    // Every commit counted so far has been handed to the OS, so this fsync covers all of them.
    const upTo = this.written;
    let fd: number;
    try {
      fd = this.walFd();
    } catch (err) {
      this.settle(upTo, this.failure(err as Error));
      return;
    }
    this.syncing = true;
    fsync(fd, (err) => {
      this.syncing = false;
      if (this.closed) {
        this.release();
        return;
      }
      this.settle(upTo, err ? this.failure(err) : null);
      if (!err) this.startSync();
    });
  }

  private settle(upTo: number, error: Error | null): void {
    if (!error) this.synced = Math.max(this.synced, upTo);
    // A failed sync proves nothing about the file, so everyone waiting hears of it; the next
    // write or wait tries again (no retry loop against a failing disk).
    const due = error ? this.waiters : this.waiters.filter((w) => w.upTo <= upTo);
    this.waiters = error ? [] : this.waiters.filter((w) => w.upTo > upTo);
    for (const waiter of due) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }

  /** Opened on first use: SQLite creates the WAL with the first write, and removes it at close. */
  private walFd(): number {
    if (this.fd === null) this.fd = openSync(this.walPath, 'r+');
    return this.fd;
  }

  private failure(err: Error): SagError {
    return new SagError(
      'INTERNAL',
      `the change was committed but could not be flushed to disk (fsync of ${this.walPath}: ${err.message}); check the disk and the broker log`,
      { path: this.walPath },
    );
  }
}
