#!/bin/bash
# rochefort v0.5's own Ruby client test suite (clients/ruby: rest-client and
# minitest, Debian ruby-rest-client ruby-minitest) against roche-serve, which
# it finds through ROCHEFORT_TEST.   ruby_client.sh PATH-TO-roche-serve
# Skipped (exit 77, with the reason) without ROCHEFORT_SRC (client_common.sh)
# or those two Ruby libraries.
. "$(dirname "$0")/client_common.sh"
ruby -e 'require "rest-client"; require "minitest"' 2>/dev/null ||
    skip "ruby's rest-client or minitest is missing (apt-get install ruby-rest-client ruby-minitest)"
copy_client ruby
start_serve 127.0.0.1:0
ROCHEFORT_TEST="http://127.0.0.1:$port/" ruby -I"$work/ruby/lib" "$work/ruby/test/test_rochefort.rb"
stop_serve
