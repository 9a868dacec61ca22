#!/usr/bin/env bats
# tonecheck.bats - the e2e frequency checker against tones made by sox.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
	command -v sox >/dev/null || skip "sox not installed"
	TC=$SBK_BUILD/tests/helpers/tonecheck
	D=$BATS_TEST_TMPDIR
}

tone() {	# file hz seconds [rate] [extra sox effects...]
	local f=$1 hz=$2 s=$3 rate=${4:-8000}; shift 4 2>/dev/null || shift $#
	sox -n -r "$rate" -c 1 -b 16 "$f" synth "$s" sine "$hz" vol 0.5 "$@"
}

@test "tonecheck: a 440 Hz tone is found and passes --expect 440" {
	tone "$D/a.wav" 440 2
	run "$TC" --expect 440 "$D/a.wav"
	assert_success
	assert_output --regexp '^freq=440 level=-9\.[0-9] active=2\.00 purity=1\.00$'
}

@test "tonecheck: the wrong expectation fails" {
	tone "$D/a.wav" 440 2
	run "$TC" --expect 1000 "$D/a.wav"
	assert_failure 1
	assert_output --partial 'freq=440'
}

@test "tonecheck: 1000 Hz, and a non-bin frequency within tolerance" {
	tone "$D/b.wav" 1000 2
	run "$TC" --expect 1000 "$D/b.wav"
	assert_success
	tone "$D/c.wav" 1234 2
	run "$TC" --expect 1230 "$D/c.wav"
	assert_success
}

@test "tonecheck: G.711 round trip (what a phone hears) still passes" {
	tone "$D/a.wav" 440 2
	sox "$D/a.wav" -e u-law "$D/u.wav"
	sox "$D/u.wav" -e signed-integer -b 16 "$D/back.wav"
	run "$TC" --expect 440 "$D/back.wav"
	assert_success
}

@test "tonecheck: the louder of two tones dominates; purity drops" {
	sox -n -r 8000 -c 1 -b 16 "$D/mix.wav" synth 2 sine 440 sine 1000 \
	    remix 1v0.7,2v0.3
	run "$TC" --expect 440 "$D/mix.wav"
	assert_success
	assert_output --regexp 'purity=0\.[6-9]'
	run "$TC" --expect 1000 "$D/mix.wav"
	assert_failure 1
}

@test "tonecheck: leading silence is ignored, silence alone fails" {
	sox -n -r 8000 -c 1 -b 16 "$D/s.wav" trim 0 1
	tone "$D/t.wav" 440 2
	sox "$D/s.wav" "$D/t.wav" "$D/st.wav"
	run "$TC" --expect 440 "$D/st.wav"
	assert_success
	assert_output --partial 'active=2.00'
	run "$TC" --expect 440 "$D/s.wav"
	assert_failure 1
	assert_output --partial 'active=0.00'
}

@test "tonecheck: white noise is not a tone" {
	sox -n -r 8000 -c 1 -b 16 "$D/n.wav" synth 2 whitenoise vol 0.5
	run "$TC" --expect 440 "$D/n.wav"
	assert_failure 1
}

@test "tonecheck: too short a tone fails --min-seconds" {
	tone "$D/a.wav" 440 0.5
	run "$TC" --expect 440 "$D/a.wav"
	assert_failure 1
	run "$TC" --expect 440 --min-seconds 0.4 "$D/a.wav"
	assert_success
}

@test "tonecheck: other sample rates and stereo (first channel)" {
	tone "$D/w.wav" 3000 1 16000
	run "$TC" --expect 3000 "$D/w.wav"
	assert_success
	sox -n -r 8000 -c 2 -b 16 "$D/st.wav" synth 2 sine 440 sine 1000
	run "$TC" --expect 440 "$D/st.wav"
	assert_success
}

@test "tonecheck: a truncated WAV (header claims more) is read as far as it goes" {
	tone "$D/a.wav" 440 2
	head -c 20000 "$D/a.wav" > "$D/cut.wav"
	run "$TC" --expect 440 --min-seconds 1 "$D/cut.wav"
	assert_success
}

@test "tonecheck: not a WAV exits 3, bad usage exits 2, --help exits 0" {
	echo hello > "$D/x.wav"
	run "$TC" --expect 440 "$D/x.wav"
	assert_failure 3
	run "$TC" --expect 440 "$D/missing.wav"
	assert_failure 3
	sox -n -r 8000 -c 1 -b 8 -e unsigned "$D/u8.wav" synth 1 sine 440
	run "$TC" "$D/u8.wav"
	assert_failure 3
	run "$TC" --expect
	assert_failure 2
	run "$TC" --expect abc "$D/x.wav"
	assert_failure 2
	run "$TC"
	assert_failure 2
	run "$TC" --help
	assert_success
	assert_output --partial usage
}
