# agentkeep login hook for fish.
#
#   source /path/to/agentkeep/shell/agentkeep.fish; and agentkeep_login --quiet id_ed25519
#
# agentkeep_login takes agentkeep's options and keys and leaves the shell exactly as
#   agentkeep --eval --quiet id_ed25519 | source
# would: it runs agentkeep (or $AGENTKEEP_BIN) with SHELL naming fish, so that the fish
# flavour (set -gx, global rather than universal) is printed, and evaluates that output.
# There is no Node-free fast path for fish; the output is agentkeep's own, never a file.

function agentkeep_login --description 'find or start the one ssh-agent and load keys (agentkeep)'
    set -l bin agentkeep
    if set -q AGENTKEEP_BIN[1]; and test -n "$AGENTKEEP_BIN"
        set bin $AGENTKEEP_BIN
    end
    set -l out (env SHELL=fish $bin --eval $argv)
    set -l rc $status
    string join \n -- $out | source
    return $rc
end
