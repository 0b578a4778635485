// The shell completion scripts `completion bash|zsh|fish|kubectl` prints. All of them ask the
// executable itself, `kubectl-policyoci __complete WORD… CURRENT`, which answers in Cobra's
// protocol (one candidate a line, `name<TAB>description`, then `:<directive>`): the protocol
// kubectl (>= 1.26) speaks to a plugin's `kubectl_complete-<plugin>` executable, so
// `kubectl policyoci <TAB>` completes through the same code as `kubectl-policyoci <TAB>`.
// Written here rather than taken from yargs: yargs picks its script by $SHELL, does not export
// its templates, and knows nothing of kubectl's plugin protocol.
export type CompletionShell = 'bash' | 'zsh' | 'fish' | 'kubectl';

export const COMPLETION_SHELLS: readonly CompletionShell[] = ['bash', 'zsh', 'fish', 'kubectl'];

/** The scripts as written (backslashes kept), with `\${` standing for the shell's `${`. */
function sh(strings: TemplateStringsArray): string {
  return strings.raw.join('').replaceAll('\\${', '${');
}

/** Cobra's ShellCompDirectiveNoFileComp: do not fall back to file names. */
export const NO_FILE_COMPLETION = 4;

const BASH = sh`# bash completion for kubectl-policyoci
#   source <(kubectl-policyoci completion bash)                     # this shell
#   kubectl-policyoci completion bash > ~/.local/share/bash-completion/completions/kubectl-policyoci
_kubectl_policyoci_complete() {
    local cur words cword
    if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
        _get_comp_words_by_ref -n =: cur words cword
    else
        cur="\${COMP_WORDS[COMP_CWORD]}"; words=("\${COMP_WORDS[@]}"); cword=$COMP_CWORD
    fi
    local out directive line
    out=$("\${words[0]}" __complete "\${words[@]:1:cword}" 2>/dev/null) || return 0
    directive=\${out##*:}
    [[ $directive =~ ^[0-9]+$ ]] || directive=0
    COMPREPLY=()
    while IFS= read -r line; do
        [[ -z $line || $line == :* ]] && continue
        line=\${line%%$'\t'*}
        [[ $line == "$cur"* ]] && COMPREPLY+=("$line")
    done <<<"$out"
    if declare -F __ltrim_colon_completions >/dev/null 2>&1; then __ltrim_colon_completions "$cur"; fi
    if (( \${#COMPREPLY[@]} == 0 && (directive & 4) == 0 )); then
        compopt -o default 2>/dev/null
    fi
    return 0
}
complete -F _kubectl_policyoci_complete kubectl-policyoci
`;

const ZSH = sh`#compdef kubectl-policyoci
# zsh completion for kubectl-policyoci
#   source <(kubectl-policyoci completion zsh)                      # this shell (after compinit)
#   kubectl-policyoci completion zsh > "\${fpath[1]}/_kubectl-policyoci"
_kubectl_policyoci() {
    local -a lines candidates
    local line name desc directive
    lines=("\${(@f)$("\${words[1]}" __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
    directive=\${lines[-1]#:}
    [[ $directive == <-> ]] || directive=0
    for line in "\${(@)lines[1,-2]}"; do
        [[ -z $line ]] && continue
        name=\${line%%$'\t'*}
        desc=''
        [[ $line == *$'\t'* ]] && desc=\${line#*$'\t'}
        candidates+=("\${name//:/\\:}:$desc")
    done
    if (( \${#candidates} )); then
        _describe 'kubectl-policyoci' candidates
    elif (( (directive & 4) == 0 )); then
        _files
    fi
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
    _kubectl_policyoci "$@"
else
    compdef _kubectl_policyoci kubectl-policyoci
fi
`;

const FISH = sh`# fish completion for kubectl-policyoci
#   kubectl-policyoci completion fish > ~/.config/fish/completions/kubectl-policyoci.fish
function __kubectl_policyoci_complete
    set -l words (commandline -opc)
    set -l out (command $words[1] __complete $words[2..-1] (commandline -ct) 2>/dev/null)
    set -l directive 0
    if string match -qr '^:[0-9]+$' -- $out[-1]
        set directive (string sub -s 2 -- $out[-1])
        set -e out[-1]
    end
    for line in $out
        test -n "$line"; and echo $line
    end
    if test (count $out) -eq 0; and test (math "bitand($directive, 4)") -eq 0
        __fish_complete_path (commandline -ct)
    end
end
complete -c kubectl-policyoci -f -a '(__kubectl_policyoci_complete)'
`;

/** kubectl_complete-policyoci: on PATH next to kubectl-policyoci, kubectl runs it for `kubectl policyoci <TAB>`. */
const KUBECTL = sh`#!/bin/sh
# kubectl (>= 1.26) runs this for "kubectl policyoci <TAB>": it must be executable, on PATH and
# named kubectl_complete-policyoci. It prints the candidates and a Cobra directive.
#   kubectl-policyoci completion kubectl > ~/.krew/bin/kubectl_complete-policyoci
#   chmod +x ~/.krew/bin/kubectl_complete-policyoci
self=$(readlink -f "$0" 2>/dev/null || printf '%s' "$0")
dir=$(dirname "$self")
if [ -x "$dir/kubectl-policyoci" ]; then
    exec "$dir/kubectl-policyoci" __complete "$@"
fi
exec kubectl-policyoci __complete "$@"
`;

export function completionScript(shell: CompletionShell): string {
  switch (shell) {
    case 'bash':
      return BASH;
    case 'zsh':
      return ZSH;
    case 'fish':
      return FISH;
    case 'kubectl':
      return KUBECTL;
  }
}

/** The lines `__complete` prints: the candidates, then the directive. */
export function completionAnswer(candidates: readonly string[], directive: number): string {
  return [...candidates, `:${directive}`].join('\n');
}

export function writeCompletionScript(shell: CompletionShell): void {
  process.stdout.write(completionScript(shell));
}
