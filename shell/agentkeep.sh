# shellcheck shell=sh
# agentkeep login hook for POSIX shells (dash, bash, zsh, ksh93, mksh, posh, yash, busybox sh).
#
#   . /path/to/agentkeep/shell/agentkeep.sh && agentkeep_login --quiet id_ed25519
#
# agentkeep_login takes agentkeep's options and keys and leaves the shell exactly as
#   eval "$(agentkeep --eval --quiet id_ed25519)"
# would. When the agent named in ~/.keychain/HOST-sh is safe, answers, and already holds every
# requested key, it does so in the shell alone, without starting Node. Anything else (other
# options, --clear, a missing or unusual file, a silent agent, a key not loaded) runs
# `agentkeep --eval` ($AGENTKEEP_BIN overrides where it is found) and evaluates its output.
#
# The env file is read as data, never sourced. Helper variables are named _agentkeep_* and
# are unset before returning. The agent's process is looked up in Linux's /proc where it is
# readable, else with POSIX ps (macOS, the BSDs); AGENTKEEP_PROC_BACKEND=ps forces ps, as it
# does for agentkeep itself (a test seam). The agent gets 2 s to answer, bounded without
# timeout(1), which macOS lacks.

# Runs the fast path's checks; on success exports the agent's variables and returns 0.
_agentkeep_fast() {
  _agentkeep_quiet=
  _agentkeep_keys=0
  for _agentkeep_arg in "$@"; do
    case $_agentkeep_arg in
      -q|--quiet) _agentkeep_quiet=1 ;;
      -Q|--quick|--nocolor) ;;
      # Any other option (--clear among them), or a word agentkeep reads as a subcommand.
      -*|'') return 1 ;;
      hook|doctor|passphrase) [ "$_agentkeep_keys" = 0 ] && return 1 ;;
      *) _agentkeep_keys=$((_agentkeep_keys + 1)) ;;
    esac
  done
  case ${HOME-} in /*) ;; *) return 1 ;; esac
  # `command` (and `exec` below): a user's shell function named find, uname, id, ps, tr, sleep,
  # kill, ssh-add, printf or env is never called.
  command -v ssh-add >/dev/null 2>&1 && command -v find >/dev/null 2>&1 && command -v sleep >/dev/null 2>&1 \
    && command -v id >/dev/null 2>&1 || return 1
  # /proc (read by the shell itself) where Linux has it, else ps; as agentkeep picks its backend.
  case ${AGENTKEEP_PROC_BACKEND-} in
    ps) _agentkeep_proc= ;;
    proc|'') if [ -r "/proc/$$/status" ]; then _agentkeep_proc=1; else _agentkeep_proc=; fi ;;
    *) return 1 ;; # agentkeep itself says what is wrong with the value
  esac
  if [ -n "$_agentkeep_proc" ]; then
    command -v tr >/dev/null 2>&1 || return 1
  else
    command -v ps >/dev/null 2>&1 && command -v env >/dev/null 2>&1 || return 1
  fi

  # Our real uid, as agentkeep checks it (no `test -O`: posh and others lack it).
  _agentkeep_myuid=$(command id -ru 2>/dev/null) || return 1
  case $_agentkeep_myuid in ''|*[!0-9]*) return 1 ;; esac

  _agentkeep_host=$(command uname -n 2>/dev/null) || return 1
  case $_agentkeep_host in ''|.|..|*/*) return 1 ;; esac
  _agentkeep_dir=$HOME/.keychain
  _agentkeep_file=$_agentkeep_dir/$_agentkeep_host-sh
  # Type and no symlink for the key directory and the env file; then, in one find: both ours,
  # neither writable by group or others, and the file small (agentkeep writes about 150 bytes;
  # a huge file would make `read` crawl).
  [ -d "$_agentkeep_dir" ] && [ ! -L "$_agentkeep_dir" ] || return 1
  [ -f "$_agentkeep_file" ] && [ ! -L "$_agentkeep_file" ] || return 1
  _agentkeep_open=$(command find "$_agentkeep_dir" "$_agentkeep_file" -prune \( ! -user "$_agentkeep_myuid" -o -perm -020 -o -perm -002 -o -type f -size +4096c \) -print 2>/dev/null) || return 1
  [ -z "$_agentkeep_open" ] || return 1

  # Exactly the two lines agentkeep writes, with bare values, and nothing after them (the Node
  # reader refuses a second SSH_AUTH_SOCK line too); anything quoted goes to agentkeep.
  _agentkeep_l1='' _agentkeep_l2='' _agentkeep_l3=''
  {
    IFS= read -r _agentkeep_l1 && IFS= read -r _agentkeep_l2 && ! IFS= read -r _agentkeep_l3
  } <"$_agentkeep_file" || return 1
  [ -z "$_agentkeep_l3" ] || return 1
  case $_agentkeep_l1 in
    'SSH_AUTH_SOCK='*'; export SSH_AUTH_SOCK;') ;;
    *) return 1 ;;
  esac
  _agentkeep_sock=${_agentkeep_l1#SSH_AUTH_SOCK=}
  _agentkeep_sock=${_agentkeep_sock%'; export SSH_AUTH_SOCK;'}
  case $_agentkeep_sock in
    /*[!A-Za-z0-9_./:@%+,=-]*|'') return 1 ;;
    /*) ;;
    *) return 1 ;;
  esac
  # Without a PID line agentkeep looks the agent's process up itself: leave it to it.
  case $_agentkeep_l2 in
    'SSH_AGENT_PID='*'; export SSH_AGENT_PID;') ;;
    *) return 1 ;;
  esac
  _agentkeep_pid=${_agentkeep_l2#SSH_AGENT_PID=}
  _agentkeep_pid=${_agentkeep_pid%'; export SSH_AGENT_PID;'}
  case $_agentkeep_pid in
    ''|0*|*[!0-9]*|???????????*) return 1 ;;
  esac

  # The PID must be a live ssh-agent of ours (real uid, as agentkeep checks), not a zombie,
  # started with `-a SOCKET` for this very socket (as agentkeep starts it); an agent started
  # without -a is left to agentkeep, which can look the listener up in /proc.
  _agentkeep_nl='
'
  if [ -n "$_agentkeep_proc" ]; then
    [ -r "/proc/$_agentkeep_pid/status" ] || return 1
    _agentkeep_status "/proc/$_agentkeep_pid/status" || return 1
    # The argv words, one a line.
    _agentkeep_cmd=$(command tr '\000' '\n' <"/proc/$_agentkeep_pid/cmdline" 2>/dev/null) || return 1
    _agentkeep_sep=$_agentkeep_nl
  else
    # The real uid, the state, the short name, then the command line with its words joined by
    # spaces (-ww: never cut). A name of ssh-agent holds no space, and the socket path none at
    # all (checked above), so `-a SOCKET` is found between spaces. env -i: procps would read
    # PS_PERSONALITY and PS_FORMAT from ours.
    _agentkeep_cmd=$(command env -i PATH="$PATH" LC_ALL=C ps -ww -o ruid= -o stat= -o ucomm= -o args= -p "$_agentkeep_pid" 2>/dev/null) || return 1
    IFS=' ' read -r _agentkeep_uid _agentkeep_state _agentkeep_name _agentkeep_cmd <<_agentkeep_EOF
$_agentkeep_cmd
_agentkeep_EOF
    case $_agentkeep_cmd in
      ssh-agent' '*|*/ssh-agent' '*) ;;
      *) return 1 ;;
    esac
    _agentkeep_sep=' '
  fi
  [ "$_agentkeep_name" = ssh-agent ] && [ "$_agentkeep_uid" = "$_agentkeep_myuid" ] || return 1
  case $_agentkeep_state in Z*|X*|'') return 1 ;; esac
  case "$_agentkeep_sep$_agentkeep_cmd$_agentkeep_sep" in
    *"$_agentkeep_sep-a$_agentkeep_sep$_agentkeep_sock$_agentkeep_sep"*) ;;
    *) return 1 ;;
  esac

  # The socket: a real socket (not a link) owned by us.
  [ -S "$_agentkeep_sock" ] && [ ! -L "$_agentkeep_sock" ] || return 1
  _agentkeep_open=$(command find "$_agentkeep_sock" -prune ! -user "$_agentkeep_myuid" -print 2>/dev/null) || return 1
  [ -z "$_agentkeep_open" ] || return 1

  # The agent must answer within 2 s; SSH_AUTH_SOCK is set for this one command only.
  _agentkeep_list=$(_agentkeep_bounded "$_agentkeep_sock" 2>/dev/null)
  case $? in
    0) ;;
    1) [ "$_agentkeep_keys" = 0 ] || return 1 ;; # answered: no identities
    *) return 1 ;;
  esac

  # Every requested key's public blob must be among the agent's identities.
  for _agentkeep_arg in "$@"; do
    case $_agentkeep_arg in -*) continue ;; esac
    case $_agentkeep_arg in
      \~) return 1 ;;
      \~/*) _agentkeep_key=$HOME/${_agentkeep_arg#\~/} ;;
      /*) _agentkeep_key=$_agentkeep_arg ;;
      */*) _agentkeep_key=$PWD/$_agentkeep_arg ;;
      *) _agentkeep_key=$HOME/.ssh/$_agentkeep_arg ;;
    esac
    [ -f "$_agentkeep_key" ] && [ -f "$_agentkeep_key.pub" ] || return 1
    _agentkeep_type='' _agentkeep_blob=''
    IFS=' ' read -r _agentkeep_type _agentkeep_blob _agentkeep_l3 <"$_agentkeep_key.pub" || [ -n "$_agentkeep_blob" ] || return 1
    case $_agentkeep_type$_agentkeep_blob in *[!A-Za-z0-9+/=@.-]*|'') return 1 ;; esac
    [ -n "$_agentkeep_type" ] && [ -n "$_agentkeep_blob" ] || return 1
    case "$_agentkeep_nl$_agentkeep_list$_agentkeep_nl" in
      *"$_agentkeep_nl$_agentkeep_type $_agentkeep_blob "*|*"$_agentkeep_nl$_agentkeep_type $_agentkeep_blob$_agentkeep_nl"*) ;;
      *) return 1 ;;
    esac
  done

  [ -n "$_agentkeep_quiet" ] || command printf ' * Found existing ssh-agent: %s\n' "$_agentkeep_pid" >&2
  SSH_AUTH_SOCK=$_agentkeep_sock; export SSH_AUTH_SOCK
  SSH_AGENT_PID=$_agentkeep_pid; export SSH_AGENT_PID
  return 0
}

# `ssh-add -L` against socket $1, killed after 2 s: what timeout(1) does, in POSIX sh. Run in
# a command substitution, with stderr to /dev/null (shells report a killed job on it), whose
# subshell has no job control to report on background jobs. A watchdog sleeps 2 s, then kills
# ssh-add; when ssh-add ends first the watchdog is ended (TERM: its trap ends its sleep, or
# waits it out when TERM came before $! was known) and waited for, so nothing of it outlives
# the call. `( exec prog ) &`: $! is then the program itself (yash keeps a shell between
# `command prog &` and $!); `unset -f` first, because posh's exec would call a user's function
# of that name (only in this subshell: the user keeps it).
_agentkeep_bounded() {
  ( unset -f ssh-add 2>/dev/null; SSH_AUTH_SOCK=$1; export SSH_AUTH_SOCK; exec ssh-add -L ) &
  _agentkeep_job=$!
  {
    _agentkeep_nap=''
    trap 'if [ -n "$_agentkeep_nap" ]; then command kill "$_agentkeep_nap"; fi; wait; exit 0' TERM
    ( unset -f sleep; exec sleep 2 ) &
    _agentkeep_nap=$!
    # Not `wait && kill` as the last command: mksh then loses the trap.
    if wait "$_agentkeep_nap"; then command kill -9 "$_agentkeep_job"; fi
    exit 0
  } </dev/null >/dev/null 2>&1 &
  _agentkeep_dog=$!
  # if/else and `|| :`: statuses survive a `set -e` that some shells keep in command substitutions.
  if wait "$_agentkeep_job"; then set -- 0; else set -- "$?"; fi
  command kill "$_agentkeep_dog" || :
  wait "$_agentkeep_dog" || :
  return "$1"
}

# Reads Name, State and the real Uid from a /proc/PID/status file.
_agentkeep_status() {
  _agentkeep_name='' _agentkeep_state='' _agentkeep_uid=''
  # IFS: a space and a tab; "Uid:\t1000\t1000\t..." keeps only the real uid in _v.
  while IFS=' 	' read -r _agentkeep_k _agentkeep_v _agentkeep_l3; do
    case $_agentkeep_k in
      Name:) _agentkeep_name=$_agentkeep_v ;;
      State:) _agentkeep_state=$_agentkeep_v ;;
      Uid:) _agentkeep_uid=$_agentkeep_v; break ;;
    esac
  done <"$1"
  [ -n "$_agentkeep_uid" ]
}

# The login hook: the fast path when safe, else `agentkeep --eval "$@"` evaluated.
agentkeep_login() {
  # Called as an if condition, so that a user's `set -e` never ends the shell on a fallback.
  if _agentkeep_fast "$@"; then set -- 0 "$@"; else set -- 1 "$@"; fi
  unset _agentkeep_quiet _agentkeep_keys _agentkeep_arg _agentkeep_host _agentkeep_dir _agentkeep_file \
    _agentkeep_l1 _agentkeep_l2 _agentkeep_l3 _agentkeep_sock _agentkeep_pid _agentkeep_myuid \
    _agentkeep_name _agentkeep_state _agentkeep_uid _agentkeep_k _agentkeep_v _agentkeep_open \
    _agentkeep_list _agentkeep_nl _agentkeep_key _agentkeep_type _agentkeep_blob _agentkeep_cmd \
    _agentkeep_proc _agentkeep_sep
  if [ "$1" = 0 ]; then
    shift
    return 0
  fi
  shift
  # SHELL=/bin/sh: the sh flavour, whatever the login shell is. The status is kept in the
  # positional parameters, the only variables a POSIX function has to itself.
  if _agentkeep_out=$(command env SHELL=/bin/sh "${AGENTKEEP_BIN:-agentkeep}" --eval "$@"); then set -- 0; else set -- "$?"; fi
  eval "$_agentkeep_out"
  unset _agentkeep_out
  return "$1"
}
