#!/bin/sh
# agentrun: the installed bin (built into dist/agentrun by scripts/build.mjs).
#
# Node cannot exec(), so this launcher asks the Node preflight (dist/agentrun.cjs) for a plan
# and then becomes the job itself: the job gets agentrun's PID, receives signals directly, and
# cron sees its own exit status; nothing of agentrun stays resident beside it.
#
# The preflight writes the plan on fd 3, as data, never as shell code:
#   exec / WORDS / SOCK / PID / end   drop WORDS leading arguments (agentrun's options), set
#                                     SSH_AUTH_SOCK=SOCK and SSH_AGENT_PID=PID (unset when
#                                     empty), exec the rest as is
#   supervise / end                   an option needs a supervisor (--lock, --timeout, --log,
#                                     --quiet, --ephemeral): run the Node bin in our place
#   nothing                           it answered itself (help, version, a refusal): its status
# The job's words never pass through eval or word splitting: "$@" is shifted and exec'd.

unset AGENTRUN_EXEC_PLAN_FD

# Our own file through npm's bin symlink(s), one link at a time (readlink -f is not POSIX).
self=$0
while [ -h "$self" ]; do
  link=$(readlink "$self") || break
  case $link in
    /*) self=$link ;;
    *) self=${self%/*}/$link ;;
  esac
done
case $self in
  */*) here=${self%/*} ;;
  *) here=. ;;
esac

if ! command -v node >/dev/null 2>&1; then
  printf 'agentrun: node: command not found on PATH=%s (agentrun runs on Node.js)\n' "${PATH-}" >&2
  printf 'hint: put node'"'"'s directory on the crontab'"'"'s PATH line: agentkeep hook cron prints it\n' >&2
  exit 127
fi

# fd 9 carries our stdout past the command substitution, only for the preflight's run;
# the job inherits every descriptor exactly as we got it.
{ plan=$(AGENTRUN_EXEC_PLAN_FD=3 node "$here/agentrun.cjs" "$@" 3>&1 1>&9 9>&-); } 9>&1
status=$?

nl='
'
case $plan in
  '') exit "$status" ;;
  "supervise${nl}end") exec node "$here/agentrun.cjs" "$@" ;;
  "exec${nl}"*"${nl}end") ;;
  *)
    printf 'agentrun: internal error: the preflight gave an unreadable plan (status %s)\n' "$status" >&2
    printf 'hint: reinstall agentkeep; if it persists, report it with: agentrun --version\n' >&2
    exit 70 ;;
esac

rest=${plan#"exec$nl"}
words=${rest%%"$nl"*}; rest=${rest#*"$nl"}
sock=${rest%%"$nl"*}; rest=${rest#*"$nl"}
pid=${rest%%"$nl"*}

shift "$words" || exit 70
SSH_AUTH_SOCK=$sock
export SSH_AUTH_SOCK
if [ -n "$pid" ]; then
  SSH_AGENT_PID=$pid
  export SSH_AGENT_PID
else
  unset SSH_AGENT_PID
fi
exec "$@"
