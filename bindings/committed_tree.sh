# Sourced by the bindings' install tests: copy_committed_tree DIR DEST puts
# into DEST the committed tree of DIR (git archive of HEAD) when DIR is in a
# git checkout, else DIR's files as they are, so an install test sees what
# a clean clone would.
copy_committed_tree() {
  mkdir -p "$2"
  if git -C "$1" rev-parse --show-prefix > /dev/null 2>&1; then
    git -C "$(git -C "$1" rev-parse --show-toplevel)" archive --format=tar "HEAD:$(git -C "$1" rev-parse --show-prefix)" |
      tar -x -C "$2"
  else
    cp -R "$1/." "$2"
  fi
}
