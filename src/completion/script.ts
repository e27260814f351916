/**
 * The completion script for a shell.
 * @module
 */

import { bashScript } from "./bash.ts";
import { fishScript } from "./fish.ts";
import type { CompletionModel, Shell } from "./model.ts";
import { zshScript } from "./zsh.ts";

/** The script for `shell`. */
export function completionScript(shell: Shell, model: CompletionModel): string {
  switch (shell) {
    case "bash":
      return bashScript(model);
    case "zsh":
      return zshScript(model);
    case "fish":
      return fishScript(model);
  }
}
