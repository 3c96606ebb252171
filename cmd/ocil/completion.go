package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// The scripts ask ocil itself what may come next (`ocil ... --generate-bash-completion`),
// so they follow the command tree without being regenerated.
const bashCompletion = `# bash completion for ocil; load with: source <(ocil completion bash)
_ocil_complete() {
	local cur words
	cur="${COMP_WORDS[COMP_CWORD]}"
	if [[ "$cur" == -* ]]; then
		words=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:$COMP_CWORD-1}" "$cur" --generate-bash-completion 2>/dev/null)
	else
		words=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:$COMP_CWORD-1}" --generate-bash-completion 2>/dev/null)
	fi
	COMPREPLY=($(compgen -W "$words" -- "$cur"))
	if [[ ${#COMPREPLY[@]} -eq 0 ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -o filenames -F _ocil_complete ocil
`

const zshCompletion = `#compdef ocil
# zsh completion for ocil; load with: source <(ocil completion zsh)
_ocil() {
	local -a opts
	local cur=${words[-1]}
	if [[ "$cur" == -* ]]; then
		opts=("${(@f)$(${words[1]} ${words[@]:1:-1} $cur --generate-bash-completion 2>/dev/null)}")
	else
		opts=("${(@f)$(${words[1]} ${words[@]:1:-1} --generate-bash-completion 2>/dev/null)}")
	fi
	if [[ -n "${opts[1]}" ]]; then
		_describe 'ocil' opts
	else
		_files
	fi
}
compdef _ocil ocil
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script",
		ArgsUsage: "bash|zsh|fish",
		Description: `Prints a completion script for the shell named. Load it in the current shell
(bash, zsh: source <(ocil completion bash)), or save it where your shell looks for
completions (fish: ~/.config/fish/completions/ocil.fish).

Examples:
  ocil completion bash
  ocil completion fish`,
		Action: func(c *cli.Context) error {
			shell, err := oneArg(c, "shell")
			if err != nil {
				return err
			}
			var script string
			switch shell {
			case "bash":
				script = bashCompletion
			case "zsh":
				script = zshCompletion
			case "fish":
				if script, err = c.App.ToFishCompletion(); err != nil {
					return err
				}
			default:
				return usagef("completion: unknown shell %q (bash, zsh or fish)", shell)
			}
			_, err = fmt.Fprint(c.App.Writer, script)
			return err
		},
	}
}
