# Sourced by the bench scripts: need_apt CHECK PACKAGE... installs the Debian packages when CHECK fails (as root),
# else says how and stops.
need_apt() {  # need_apt CHECK PACKAGE...: installs the packages when CHECK fails (as root), else says how
  if ! eval "$1" >/dev/null 2>&1; then
    shift
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
    else echo "Install first: sudo apt-get install $*" >&2; exit 1; fi
  fi
}
