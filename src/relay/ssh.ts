/**
 * The laptop's one SSH connection: the system's `ssh` (so ~/.ssh/config, keys, the agent,
 * ProxyJump, certificates and one-time-code prompts work as they always do), started once
 * per dial with the protocol on its stdin/stdout. OpenSSH asks for passwords and codes on
 * /dev/tty, so the pipes stay free for frames.
 *
 * The remote side runs in a login shell, so that modules and conda initialisation are there,
 * whatever the user's shell: csh and tcsh cannot combine `-l` with `-c`, and fish reads all
 * of its standard input before running any of it, so the login shell is started reading its
 * commands from the connection itself and is sent one line (see {@link agentLine}).
 * @module
 */

/** The program `connect` runs on the login node when `--remote-command` is not given. */
export const DEFAULT_REMOTE = "legate-jupyter";

/**
 * A line on ssh's stdout that says the login is done (ssh's LocalCommand prints it on the
 * laptop once authenticated, and the remote command again as it starts): from then on, the
 * login node's side has a deadline to answer. It comes before the marker, so it is skipped.
 */
export const LOGIN_SIGNAL = "legate-jupyter-login";

/**
 * What sshd runs: a POSIX shell that replaces itself with the user's login shell reading
 * commands from stdin (fish: its login environment, then /bin/sh reading them). The string is
 * valid in sh, bash, zsh, ksh, csh, tcsh and fish, whichever the account's shell is.
 */
export const REMOTE_SHELL =
  `echo ${LOGIN_SIGNAL}; exec /bin/sh -c 'case "\${SHELL:-/bin/sh}" in *fish) ` +
  `exec "$SHELL" -l -c "exec /bin/sh";; *) exec "\${SHELL:-/bin/sh}" -l;; esac'`;

/**
 * The one line the login shell reads: the agent, then `exit $status` (already parsed when the
 * agent ends, so that nothing the connection carries later is ever read as a command; `$status`
 * is the last status in csh, tcsh and zsh, and empty, meaning the same, in sh and bash).
 * `remote` is `--remote-command` as the user wrote it, for their shell.
 */
export function agentLine(remote = DEFAULT_REMOTE): string {
  return `${remote} agent; exit $status\n`;
}

/** `ssh -G`'s output: lowercase keys, values as printed (several for some keys). */
export function parseSshConfig(text: string): Map<string, string> {
  const config = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const key = m[1].toLowerCase();
    if (!config.has(key)) config.set(key, m[2]);
  }
  return config;
}

/** Whether the user's config shares connections (a ControlMaster with a ControlPath). */
export function sharesConnections(config: ReadonlyMap<string, string>): boolean {
  const master = (config.get("controlmaster") ?? "false").toLowerCase();
  const path = config.get("controlpath") ?? "none";
  return master !== "false" && master !== "no" && path !== "none" && path !== "";
}

/**
 * The ssh command line for one dial. Options connect cannot do without come first (ssh takes
 * the first value it sees): no terminal, no RemoteCommand or forwardings from the user's
 * config for that host (they would replace the agent or clash with ports), and a LocalCommand
 * that prints {@link LOGIN_SIGNAL} once the login is done; then the user's `-o` options; then
 * defaults the user's config did not set.
 */
export function sshArgv(o: {
  destination: string;
  /** `-o` values from `--ssh-option`, as given. */
  userOptions?: readonly string[];
  /** `ssh -G`'s view of the destination (for defaults). */
  config?: ReadonlyMap<string, string>;
}): string[] {
  const argv = [
    "ssh",
    "-T",
    "-o",
    "RemoteCommand=none",
    "-o",
    "ClearAllForwardings=yes",
    "-o",
    "EscapeChar=none",
    "-o",
    "PermitLocalCommand=yes",
    "-o",
    `LocalCommand=echo ${LOGIN_SIGNAL}`,
  ];
  for (const opt of o.userOptions ?? []) argv.push("-o", opt);
  const given = (key: string) =>
    (o.userOptions ?? []).some((u) => u.toLowerCase().startsWith(key.toLowerCase()));
  const connectTimeout = o.config?.get("connecttimeout");
  if (!given("ConnectTimeout") && (connectTimeout === undefined || connectTimeout === "none")) {
    // A laptop that wakes on another network must not wait minutes for a SYN to time out.
    argv.push("-o", "ConnectTimeout=20");
  }
  argv.push("--", o.destination, REMOTE_SHELL);
  return argv;
}
