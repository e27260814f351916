/**
 * `legate-jupyter lab`: the `notebook` command for JupyterLab (`jupyter-lab`).
 * @module
 */

import type { Command } from "./command.ts";
import { makeCommand } from "./notebook.ts";

/** `legate-jupyter lab`. */
export const command: Command = makeCommand("lab");
