'use strict';
// phone.js - the browser phone of sbckit's tests: JsSIP registers over a
// WebSocket (SIP over WSS, RFC 7118), calls and answers with the fake
// microphone Chromium was given, and measures what it hears: the dominant
// frequency of the received track (WebAudio AnalyserNode), with the WebRTC
// statistics (codec, packets, DTLS-SRTP cipher, the ICE pair used).
//
// window.phone is driven by tests/browser/driver.js (puppeteer-core); every
// event also goes to window.sbkEvent (a function the driver exposes) so the
// test sees it at once.

(function () {
	const events = [];
	let ua = null;
	let session = null;
	let incoming = [];
	let ended = null;
	let audioCtx = null;
	let closes = 0;
	let registered = false;

	function emit(type, data) {
		const ev = Object.assign({ event: type, t: Date.now() }, data || {});
		events.push(ev);
		const pre = document.getElementById('log');
		if (pre) pre.textContent += JSON.stringify(ev) + '\n';
		const st = document.getElementById('state');
		if (st) st.textContent = type;
		if (typeof window.sbkEvent === 'function') window.sbkEvent(ev);
	}

	// Keep only loopback IPv4 host candidates and point c=/m= at the first
	// one: the tests run on 127.0.0.0/8 and must not offer the machine's
	// other addresses to the gateway (which would then send checks there).
	function loopbackOnly(sdp) {
		const lines = sdp.split('\r\n');
		const out = [];
		let sect = null;
		const sects = [];
		for (const l of lines) {
			if (l.startsWith('m=')) {
				sect = { lines: [l] };
				sects.push(sect);
				continue;
			}
			if (!sect) {
				out.push(l);
				continue;
			}
			sect.lines.push(l);
		}
		for (const s of sects) {
			let first = null;
			s.lines = s.lines.filter((l) => {
				if (!l.startsWith('a=candidate:')) return true;
				const f = l.split(' ');
				// foundation component transport priority address port typ type
				const ok = f[2].toLowerCase() === 'udp' && /^127\./.test(f[4]);
				if (ok && !first && f[1] === '1') first = { addr: f[4], port: f[5] };
				return ok;
			});
			if (first) {
				s.lines = s.lines.map((l) => {
					if (l.startsWith('c=IN IP')) return 'c=IN IP4 ' + first.addr;
					if (l.startsWith('m=')) {
						const f = l.split(' ');
						f[1] = first.port;
						return f.join(' ');
					}
					return l;
				});
			}
			out.push(...s.lines);
		}
		return out.join('\r\n');
	}

	function watch(s, originator) {
		session = s;
		ended = null;
		s.__sbkConfirmed = false;
		s.on('sdp', (e) => {
			if (e.originator === 'local') e.sdp = loopbackOnly(e.sdp);
			emit('sdp', { originator: e.originator, type: e.type, sdp: e.sdp });
		});
		s.on('progress', (e) => emit('progress', { originator: e.originator,
			code: e.response ? e.response.status_code : 0 }));
		s.on('accepted', (e) => emit('accepted', { originator: e.originator }));
		s.on('confirmed', (e) => {
			s.__sbkConfirmed = true;
			emit('confirmed', { originator: e.originator });
		});
		s.on('ended', (e) => {
			ended = { originator: e.originator, cause: e.cause };
			emit('ended', ended);
		});
		s.on('failed', (e) => {
			ended = { originator: e.originator, cause: e.cause,
				code: e.message && e.message.status_code || 0 };
			emit('failed', ended);
		});
		s.on('peerconnection', (e) => hookPc(e.peerconnection));
		if (s.connection) hookPc(s.connection);
		emit('session', { originator, remote: s.remote_identity.uri.toString() });
	}

	function hookPc(pc) {
		if (pc.__sbk) return;
		pc.__sbk = true;
		pc.addEventListener('iceconnectionstatechange', () =>
			emit('ice', { state: pc.iceConnectionState }));
		pc.addEventListener('connectionstatechange', () =>
			emit('pc', { state: pc.connectionState }));
	}

	function waitFor(pred, ms, what) {
		return new Promise((resolve, reject) => {
			const t0 = Date.now();
			(function poll() {
				let v;
				try {
					v = pred();
				} catch (e) {
					reject(e);
					return;
				}
				if (v) resolve(v);
				else if (Date.now() - t0 > ms) reject(new Error('timeout: ' + what));
				else setTimeout(poll, 50);
			})();
		});
	}

	const media = { mediaConstraints: { audio: true, video: false },
		pcConfig: { iceServers: [] } };

	const phone = {
		events,

		// start({wss, uri, password}): connect and register (10 s).
		start(o) {
			return new Promise((resolve, reject) => {
				setTimeout(() => reject(new Error('not registered after 10 s')), 10000);
				const sock = new JsSIP.WebSocketInterface(o.wss);
				ua = new JsSIP.UA({
					sockets: [sock],
					uri: o.uri,
					password: o.password || undefined,
					register: true,
					register_expires: 600,
					session_timers: false,
					connection_recovery_min_interval: 1,
					connection_recovery_max_interval: 3,
					user_agent: 'sbckit-browser-test JsSIP/' + JsSIP.version,
				});
				ua.on('connected', () => emit('connected'));
				ua.on('disconnected', (e) => {
					closes++;
					emit('disconnected', { code: e && e.code, reason: e && e.reason });
				});
				ua.on('registered', () => {
					registered = true;
					emit('registered');
					resolve(true);
				});
				ua.on('registrationFailed', (e) => {
					emit('registrationFailed', { cause: e.cause,
						code: e.response ? e.response.status_code : 0 });
					reject(new Error('registration failed: ' + e.cause));
				});
				ua.on('newRTCSession', (e) => {
					watch(e.session, e.originator);
					if (e.originator === 'remote') incoming.push(e.session);
				});
				ua.start();
			});
		},

		// call(target): resolves when the call is confirmed (ACK sent).
		async call(target) {
			ended = null;
			ua.call(target, Object.assign({}, media));
			await waitFor(() => (session && session.__sbkConfirmed) || ended,
				20000, 'call ' + target);
			if (ended) throw new Error('call failed: ' + JSON.stringify(ended));
			return true;
		},

		// answer(ms): wait for an incoming call, answer it, resolve when
		// the ACK has come.
		async answer(ms) {
			const s = await waitFor(() => incoming.shift(), ms || 20000,
				'an incoming call');
			s.answer(Object.assign({}, media));
			await waitFor(() => s.__sbkConfirmed || ended, 20000, 'answer');
			if (ended) throw new Error('answer failed: ' + JSON.stringify(ended));
			return true;
		},

		// refused(o, ms): start(o) and wait ms: the gateway must not let
		// this page register; how often the socket was closed.
		async refused(o, ms) {
			phone.start(o).catch(() => {});
			await new Promise((r) => setTimeout(r, ms));
			ua.stop();
			return { closes, registered };
		},

		hangup() {
			if (session && !session.isEnded()) session.terminate();
			return true;
		},

		// ended(ms): wait until the call ends (the other side hangs up).
		async ended(ms) {
			await waitFor(() => ended, ms || 15000, 'the end of the call');
			return ended;
		},

		// listen(ms): the received track's spectrum over ms milliseconds:
		// the dominant frequency between 100 and 4000 Hz (bin centre), its
		// level (dBFS), the share of the power within ±2 bins of it, and the
		// WebRTC stats of the call.
		async listen(ms) {
			if (!session || !session.connection) throw new Error('no call');
			const pc = session.connection;
			const rx = pc.getReceivers().find((r) => r.track && r.track.kind === 'audio');
			if (!rx) throw new Error('no audio receiver');
			const stream = new MediaStream([rx.track]);
			// Chromium feeds a remote track to WebAudio only while a media
			// element plays it too.
			const el = document.getElementById('remote');
			el.srcObject = stream;
			el.muted = true;
			el.play().catch(() => {});
			if (!audioCtx) audioCtx = new AudioContext();
			await audioCtx.resume();
			const src = audioCtx.createMediaStreamSource(stream);
			const an = audioCtx.createAnalyser();
			an.fftSize = 8192;
			an.smoothingTimeConstant = 0;
			src.connect(an);
			const n = an.frequencyBinCount;
			const binHz = audioCtx.sampleRate / an.fftSize;
			const sum = new Float64Array(n);
			const buf = new Float32Array(n);
			let frames = 0;
			const t0 = Date.now();
			while (Date.now() - t0 < ms) {
				await new Promise((r) => setTimeout(r, 100));
				an.getFloatFrequencyData(buf);
				for (let i = 0; i < n; i++)
					if (isFinite(buf[i])) sum[i] += Math.pow(10, buf[i] / 10);
				frames++;
			}
			src.disconnect();
			const lo = Math.ceil(100 / binHz);
			const hi = Math.min(n - 1, Math.floor(4000 / binHz));
			let peak = lo;
			let total = 0;
			for (let i = lo; i <= hi; i++) {
				total += sum[i];
				if (sum[i] > sum[peak]) peak = i;
			}
			let near = 0;
			for (let i = Math.max(lo, peak - 2); i <= Math.min(hi, peak + 2); i++)
				near += sum[i];
			const stats = await phone.stats();
			const r = {
				hz: +(peak * binHz).toFixed(1),
				binHz: +binHz.toFixed(2),
				db: frames && sum[peak] > 0 ?
					+(10 * Math.log10(sum[peak] / frames)).toFixed(1) : -Infinity,
				purity: total > 0 ? +(near / total).toFixed(3) : 0,
				frames,
				stats,
			};
			emit('listen', r);
			return r;
		},

		// stats(): what the call's RTCPeerConnection reports.
		async stats() {
			const pc = session && session.connection;
			if (!pc) return {};
			const rep = await pc.getStats();
			const by = {};
			rep.forEach((s) => { by[s.id] = s; });
			const out = {};
			rep.forEach((s) => {
				if (s.type === 'inbound-rtp' && s.kind === 'audio') {
					out.packetsReceived = s.packetsReceived;
					out.packetsLost = s.packetsLost;
					const c = by[s.codecId];
					if (c) out.codec = c.mimeType;
				}
				if (s.type === 'outbound-rtp' && s.kind === 'audio')
					out.packetsSent = s.packetsSent;
				if (s.type === 'transport') {
					out.dtlsState = s.dtlsState;
					out.dtlsRole = s.dtlsRole;
					out.srtpCipher = s.srtpCipher;
					out.tlsVersion = s.tlsVersion;
					const p = by[s.selectedCandidatePairId];
					if (p) {
						const l = by[p.localCandidateId];
						const r = by[p.remoteCandidateId];
						out.pair = (l ? l.address + ':' + l.port : '?') + ' -> ' +
							(r ? r.address + ':' + r.port : '?');
					}
				}
			});
			return out;
		},

		stop() {
			if (ua) ua.stop();
			return true;
		},
	};

	window.phone = phone;
	window.addEventListener('load', () => emit('loaded', { jssip: JsSIP.version }));
})();
