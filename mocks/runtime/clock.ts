/** Mock wall clock shared by htable autoexpire, pike, registrar expiry and auth nonces. */
export class Clock {
  constructor(private ms: number) {}

  now(): number {
    return this.ms;
  }

  seconds(): number {
    return Math.floor(this.ms / 1000);
  }

  advance(ms: number): void {
    if (ms < 0) throw new Error('mock clock: cannot go back in time');
    this.ms += ms;
  }
}
