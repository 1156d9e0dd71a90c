/** Exit statuses of `sag-agent`. */
export const EXIT = {
  ok: 0,
  failed: 1,
  /** A bad setting or usage. */
  usage: 2,
  /** The broker asked for a reboot: the supervisor should start the agent again (EX_TEMPFAIL). */
  restart: 75,
} as const;
