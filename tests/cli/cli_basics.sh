#!/bin/sh
# CLI conventions: --version, help, --help on every command, exit code 2 and a
# one-line error for unknown commands and options.
set -u
CVM=$1
fail=0
check() { # description, expected exit code, command...
    desc=$1 want=$2
    shift 2
    "$@" >/tmp/cvm_cli_out.$$ 2>/tmp/cvm_cli_err.$$
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: $desc: exit $got, want $want"; cat /tmp/cvm_cli_err.$$
        fail=1
    fi
}
check "--version" 0 "$CVM" --version
grep -q '^cvm [0-9]' /tmp/cvm_cli_out.$$ || { echo "FAIL: version text"; fail=1; }
check "help" 0 "$CVM" help
check "no args" 2 "$CVM"
check "unknown command" 2 "$CVM" frobnicate
[ "$(wc -l </tmp/cvm_cli_err.$$)" -eq 1 ] || { echo "FAIL: unknown command error is not one line"; fail=1; }
grep -q "unknown command 'frobnicate'" /tmp/cvm_cli_err.$$ || { echo "FAIL: unknown command text"; fail=1; }
# Every command listed by `cvm help` has --help and rejects unknown options.
for c in $("$CVM" help | awk '/^commands:/{f=1;next} f && /^  [a-z]/{print $1}'); do
    check "$c --help" 0 "$CVM" "$c" --help
    grep -q "usage: cvm" /tmp/cvm_cli_out.$$ || [ "$c" = help ] || { echo "FAIL: $c --help has no usage line"; fail=1; }
    check "help $c" 0 "$CVM" help "$c"
    if [ "$c" != help ]; then
        check "$c --bogus" 2 "$CVM" "$c" --bogus-option
        [ "$(wc -l </tmp/cvm_cli_err.$$)" -eq 1 ] || { echo "FAIL: $c: unknown option error is not one line"; cat /tmp/cvm_cli_err.$$; fail=1; }
    fi
done
check "load without --db" 2 "$CVM" load usage=x.csv
check "load bad table" 2 "$CVM" load --db /tmp/x.db nosuch=x.csv
check "load bad month" 2 "$CVM" load --db /tmp/x.db --month 2025-13 usage=x.csv
check "load bad rate" 2 "$CVM" load --db /tmp/x.db --max-reject-rate 2 usage=x.csv
check "load bad encoding" 2 "$CVM" load --db /tmp/x.db --encoding latin1 usage=x.csv
rm -f /tmp/cvm_cli_out.$$ /tmp/cvm_cli_err.$$
[ $fail -eq 0 ] && echo "cli basics ok"
exit $fail
