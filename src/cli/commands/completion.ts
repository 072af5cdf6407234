// `jetway completion --shell bash|zsh|fish`: a completion script for the commands (and fly's
// aliases) and each command's flags, generated from the program itself so it cannot drift
// (fly/commands/completion.go prints its own for the same shells).
//   source <(jetway completion --shell bash)
import type { Command } from 'commander';
import { usageError, type CliIO } from '../io.ts';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

interface CommandWords {
  names: string[];
  flags: string[];
}

function words(program: Command): CommandWords[] {
  return program.commands.map((c) => ({
    names: [c.name(), ...c.aliases()],
    flags: c.options.flatMap((o) => [o.long, o.short].filter((f): f is string => typeof f === 'string')),
  }));
}

/** The script for a shell; the words are commander's names and flags (no quoting needed: [a-z-]). */
export function completionScript(program: Command, shell: Shell): string {
  const all = words(program);
  const commands = all.flatMap((w) => w.names).join(' ');
  if (shell === 'fish') {
    const lines = ['complete -c jetway -f', `complete -c jetway -n '__fish_use_subcommand' -a '${commands}'`];
    for (const w of all) {
      for (const flag of w.flags.filter((f) => f.startsWith('--'))) {
        lines.push(`complete -c jetway -n '__fish_seen_subcommand_from ${w.names.join(' ')}' -l ${flag.slice(2)}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
  const cases = all.map((w) => `    ${w.names.join('|')}) flags="${w.flags.join(' ')}" ;;`).join('\n');
  const bash = `_jetway() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${commands}" -- "$cur") )
    return
  fi
  local flags=""
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
  COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
}
complete -F _jetway jetway
`;
  // zsh runs the bash function through bashcompinit
  return shell === 'zsh' ? `autoload -U +X bashcompinit && bashcompinit\n${bash}` : bash;
}

export function registerCompletion(program: Command, io: CliIO): void {
  program
    .command('completion')
    .description('Print a shell completion script (source <(jetway completion --shell bash))')
    .requiredOption('--shell <shell>', `the shell: ${SHELLS.join(', ')}`)
    .action((opts: { shell: string }) => {
      if (!(SHELLS as readonly string[]).includes(opts.shell)) {
        throw usageError(`error: option '--shell <shell>': ${JSON.stringify(opts.shell)} is not one of ${SHELLS.join(', ')}`);
      }
      io.stdout(completionScript(program, opts.shell as Shell));
    });
}
