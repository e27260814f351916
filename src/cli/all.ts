/**
 * Every command module of the table but `completions` itself, loaded in one import, for
 * `completions`, which needs every flag table: in `deno run` each dynamic import has a cost of its own (about 0.4 ms), so one
 * import of sixteen modules is several times quicker than sixteen. A command missing here
 * still completes (`completions` loads it on its own); this list only makes it quick.
 * @module
 */

import type { Command } from "./command.ts";
import { command as cancel } from "./cancel.ts";
import { command as connect } from "./connect.ts";
import { command as detect } from "./detect.ts";
import { command as info } from "./info.ts";
import { command as install } from "./install.ts";
import { command as jobs } from "./jobs.ts";
import { command as lab } from "./lab.ts";
import { command as list } from "./list.ts";
import { command as notebook } from "./notebook.ts";
import { command as remove } from "./remove.ts";
import { command as servers } from "./servers.ts";
import { command as stop } from "./stop.ts";
import { command as submit } from "./submit.ts";

/** The commands, by name. */
export const ALL_COMMANDS: ReadonlyMap<string, Command> = new Map(
  [
    cancel,
    connect,
    detect,
    info,
    install,
    jobs,
    lab,
    list,
    notebook,
    remove,
    servers,
    stop,
    submit,
  ].map((c) => [c.name, c]),
);
