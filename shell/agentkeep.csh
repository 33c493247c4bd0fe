# agentkeep login hook for csh and tcsh.
#
#   source /path/to/agentkeep/shell/agentkeep.csh --quiet id_ed25519
#
# Leaves the shell exactly as  eval "`agentkeep --eval --quiet id_ed25519`"  would: it runs
# agentkeep (or $AGENTKEEP_BIN) with SHELL naming tcsh, so that the csh flavour is printed,
# and evaluates that output. There is no Node-free fast path for csh: its lack of functions
# and of a safe `read` makes the checks too costly to do well here.
#
# csh gives a sourced file the caller's $argv when no arguments follow the file name, so
# source it from ~/.login (where $argv is empty) or always name the keys on the line.
if ( $?AGENTKEEP_BIN ) then
    set _agentkeep_bin = $AGENTKEEP_BIN:q
else
    set _agentkeep_bin = agentkeep
endif
# Both substitutions happen before eval runs, so the helper variable is unset first and the
# status left behind is that of agentkeep's own output ("false;" when it failed). The eval
# must stay outside if/endif, which would reset $status to 0.
eval "unset _agentkeep_bin; `env SHELL=/bin/tcsh $_agentkeep_bin:q --eval $argv:q`"
