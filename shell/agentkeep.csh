# agentkeep login hook for csh (BSD csh and tcsh).
#
#   set agentkeep_args = ( --quiet id_ed25519 ); source /path/to/agentkeep/shell/agentkeep.csh
#
# Leaves the shell exactly as  eval "`agentkeep --eval --quiet id_ed25519`"  would: it runs
# agentkeep (or $AGENTKEEP_BIN) with SHELL naming tcsh, so that the csh flavour is printed,
# and sources that output. BSD csh cannot pass arguments to `source` ("Too many arguments"),
# so they come in the list $agentkeep_args; tcsh's `source FILE ARGS...` works too. There is
# no Node-free fast path for csh: its lack of functions and of a safe `read` makes the checks
# too costly to do well here.
#
# The arguments are data, never code: they reach agentkeep as words of a plain command (a
# word inside backquotes would be parsed again), and its output goes through a private
# temporary file (mktemp, mode 0600, in /tmp: $TMPDIR may be a directory others can write).
if ( $?agentkeep_args ) then
    set _agentkeep_args = ( $agentkeep_args:q )
    unset agentkeep_args
else if ( $?argv ) then
    set _agentkeep_args = ( $argv:q )
else
    set _agentkeep_args = ( )
endif
if ( $?AGENTKEEP_BIN ) then
    set _agentkeep_bin = $AGENTKEEP_BIN:q
else
    set _agentkeep_bin = agentkeep
endif
set _agentkeep_rc = 1
set _agentkeep_tmp = "`mktemp /tmp/agentkeep-csh.XXXXXXXXXX`"
if ( "$_agentkeep_tmp" != "" ) then
    env SHELL=/bin/tcsh $_agentkeep_bin:q --eval $_agentkeep_args:q >! $_agentkeep_tmp:q
    set _agentkeep_rc = $status
    source $_agentkeep_tmp:q
    rm -f $_agentkeep_tmp:q
endif
# The status left behind is 0 when agentkeep succeeded, else 1 (as eval of its "false;").
# The eval must stay outside if/endif, which would reset $status to 0.
eval "unset _agentkeep_args _agentkeep_bin _agentkeep_tmp _agentkeep_rc; if ( $_agentkeep_rc != 0 ) false"
