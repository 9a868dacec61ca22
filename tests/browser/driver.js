#!/usr/bin/env node
'use strict';
// driver.js - run sbckit's browser phone (page/) in headless Chromium against
// any SIP-over-WebSocket gateway and play a scenario, step by step.
//
//   node driver.js --wss URL --uri SIP-URI --tone WAV [options] STEP...
//
// Options:
//   --wss URL          the gateway's WebSocket URL (wss://127.0.0.1:8443)
//   --uri URI          the phone's address of record (sip:alice@127.0.0.1)
//   --password PW      digest password, if the gateway asks
//   --tone WAV         what the fake microphone plays (16-bit PCM WAV)
//   --chromium PATH    the browser (default $CHROMIUM or /usr/bin/chromium)
//   --timeout SECONDS  bound on the whole run (default 80)
//   --screenshot PNG   a picture of the page at the end
//   --http-port N      serve the page on 127.0.0.1:N (default: a free port);
//                      its origin, http://127.0.0.1:N, is what the page's
//                      WebSocket handshake says in Origin
// Steps, in order:
//   register           connect and REGISTER
//   call:URI           call URI, wait until it is confirmed
//   answer             wait (20 s) for a call and answer it
//   listen:SEC:HZ      measure the received audio for SEC seconds; it must be
//                      dominated by HZ (within one analyser bin)
//   hangup             send BYE (or CANCEL)
//   ended              wait (15 s) until the other side hangs up
//   wait:SEC           sleep
//   unregister         stop the user agent (un-REGISTER, close the socket)
//   refused:SEC        connect, and be refused: no registration within SEC
//                      seconds, the WebSocket closed at least once
//   drop               close the page at once: its WebSocket and media go
//                      without a BYE (a phone lost mid-call); the last step
//
// Output: one JSON object a line on stdout, {"event": ...}: the page's
// events (registered, sdp, ice, confirmed, listen, ended, ...), "step" before
// each step, "fail" for a step that failed, and "done" last. Exit status 0
// when every step succeeded, 1 when one failed, 2 on bad usage. The page is
// served on 127.0.0.1 (a free port) by this script; Chromium is never
// downloaded: puppeteer-core drives the executable given.

const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { bundle } = require('./bundle');

function out(ev) {
	process.stdout.write(JSON.stringify(ev) + '\n');
}

function usage(msg) {
	process.stderr.write(`driver.js: ${msg}\n` +
	    'usage: node driver.js --wss URL --uri SIP-URI --tone WAV [--password PW]\n' +
	    '       [--chromium PATH] [--timeout S] [--screenshot PNG] [--http-port N]\n' +
	    '       STEP...\n');
	process.exit(2);
}

function parseArgs(argv) {
	const o = { chromium: process.env.CHROMIUM || '/usr/bin/chromium',
		timeout: 80, steps: [] };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const val = () => {
			if (i + 1 >= argv.length) usage(`${a} needs a value`);
			return argv[++i];
		};
		switch (a) {
		case '--wss': o.wss = val(); break;
		case '--uri': o.uri = val(); break;
		case '--password': o.password = val(); break;
		case '--tone': o.tone = val(); break;
		case '--chromium': o.chromium = val(); break;
		case '--timeout': o.timeout = Number(val()); break;
		case '--screenshot': o.screenshot = val(); break;
		case '--http-port': o.httpPort = Number(val()); break;
		case '-h': case '--help': usage('help');
		default:
			if (a.startsWith('-')) usage(`unknown option ${a}`);
			o.steps.push(a);
		}
	}
	if (!o.wss || !/^wss?:\/\//.test(o.wss)) usage('--wss ws:// or wss:// URL needed');
	if (!o.uri || !/^sips?:/.test(o.uri)) usage('--uri sip: URI needed');
	if (!o.tone || !fs.existsSync(o.tone)) usage('--tone WAV needed (an existing file)');
	if (!fs.existsSync(o.chromium)) usage(`no browser at ${o.chromium}`);
	if (!(o.timeout > 0)) usage('--timeout must be a positive number');
	if (o.httpPort !== undefined && !(Number.isInteger(o.httpPort) &&
	    o.httpPort > 0 && o.httpPort < 65536))
		usage('--http-port must be a port number');
	for (const s of o.steps) {
		const [k, ...rest] = s.split(':');
		const ok = { register: 0, answer: 0, hangup: 0, ended: 0, unregister: 0,
			drop: 0 }[k] === 0 ?
		    rest.length === 0 :
		    k === 'call' ? rest.length > 0 :
		    k === 'wait' || k === 'refused' ? rest.length === 1 && Number(rest[0]) >= 0 :
		    k === 'listen' ? rest.length === 2 && Number(rest[0]) > 0 && Number(rest[1]) > 0 :
		    false;
		if (!ok) usage(`bad step '${s}'`);
	}
	if (!o.steps.length) usage('no steps');
	return o;
}

// The page, JsSIP bundled for it, nothing else; only GET.
function serve(port) {
	const dir = path.join(__dirname, 'page');
	const files = {
		'/': ['text/html', fs.readFileSync(path.join(dir, 'index.html'))],
		'/phone.js': ['text/javascript', fs.readFileSync(path.join(dir, 'phone.js'))],
		'/jssip.js': ['text/javascript', Buffer.from(bundle('jssip', 'JsSIP'))],
		'/favicon.ico': ['image/x-icon', Buffer.alloc(0)],
	};
	const srv = http.createServer((req, res) => {
		const f = files[req.url.split('?')[0]];
		if (req.method !== 'GET' || !f) {
			res.writeHead(404);
			res.end();
			return;
		}
		res.writeHead(200, { 'Content-Type': f[0], 'Cache-Control': 'no-store' });
		res.end(f[1]);
	});
	return new Promise((resolve, reject) => {
		srv.on('error', reject);
		srv.listen(port || 0, '127.0.0.1', () => resolve(srv));
	});
}

async function main() {
	const o = parseArgs(process.argv.slice(2));
	let puppeteer;
	try {
		puppeteer = require('puppeteer-core');
	} catch (e) {
		usage('puppeteer-core is not installed: npm ci --prefix tests/browser');
	}
	const srv = await serve(o.httpPort);
	const page_url = `http://127.0.0.1:${srv.address().port}/`;
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sbk-chromium-'));
	let browser = null;
	let failed = false;
	let closing = null;
	const cleanup = () => {
		closing = closing || (async () => {
			try {
				if (browser) await browser.close();
			} catch (e) { /* already gone */ }
			srv.close();
			try {
				fs.rmSync(profile, { recursive: true, force: true,
					maxRetries: 3 });
			} catch (e) { /* a temporary directory left behind */ }
		})();
		return closing;
	};
	const timer = setTimeout(async () => {
		out({ event: 'fail', step: 'timeout', error: `run longer than ${o.timeout} s` });
		await cleanup();
		process.exit(1);
	}, o.timeout * 1000);
	for (const sig of ['SIGTERM', 'SIGINT'])
		process.on(sig, async () => {
			await cleanup();
			process.exit(1);
		});

	const args = [
		'--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic',
		'--no-first-run', '--disable-background-networking',
		'--disable-component-update', '--disable-sync',
		`--user-data-dir=${profile}`,
		'--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
		`--use-file-for-fake-audio-capture=${path.resolve(o.tone)}`,
		'--allow-loopback-in-peer-connection',
		'--disable-features=WebRtcHideLocalIpsWithMdns',
		'--autoplay-policy=no-user-gesture-required',
		'--ignore-certificate-errors',
	];
	out({ event: 'browser', chromium: o.chromium, page: page_url, wss: o.wss });
	browser = await puppeteer.launch({
		executablePath: o.chromium, headless: true, pipe: true, args,
		userDataDir: profile, acceptInsecureCerts: true,
		handleSIGTERM: false, handleSIGINT: false, handleSIGHUP: true,
		protocolTimeout: o.timeout * 1000,
	});
	out({ event: 'version', browser: await browser.version() });
	const page = await browser.newPage();
	page.on('console', (m) => {
		if (m.type() === 'error' || m.type() === 'warn')
			out({ event: 'console', level: m.type(), text: m.text() });
	});
	page.on('pageerror', (e) => out({ event: 'pageerror', error: String(e) }));
	await page.exposeFunction('sbkEvent', (ev) => out(ev));
	await page.goto(page_url, { waitUntil: 'load' });

	for (const s of o.steps) {
		const [k, ...rest] = s.split(':');
		const arg = rest.join(':');
		out({ event: 'step', step: s });
		try {
			switch (k) {
			case 'register':
				await page.evaluate((w, u, p) => phone.start({ wss: w, uri: u, password: p }),
				    o.wss, o.uri, o.password || '');
				break;
			case 'call':
				await page.evaluate((t) => phone.call(t), arg);
				break;
			case 'answer':
				await page.evaluate(() => phone.answer(20000));
				break;
			case 'listen': {
				const secs = Number(rest[0]);
				const want = Number(rest[1]);
				const r = await page.evaluate((ms) => phone.listen(ms), secs * 1000);
				const ok = Math.abs(r.hz - want) <= r.binHz + 0.5 &&
				    r.purity >= 0.5 && r.db > -80;
				out({ event: 'heard', want, hz: r.hz, binHz: r.binHz, db: r.db,
				    purity: r.purity, ok });
				if (!ok) {
					failed = true;
					out({ event: 'fail', step: s,
					    error: `heard ${r.hz} Hz (purity ${r.purity}, ${r.db} dB), want ${want} Hz` });
				}
				break;
			}
			case 'hangup':
				await page.evaluate(() => phone.hangup());
				break;
			case 'ended': {
				const e = await page.evaluate(() => phone.ended(15000));
				out({ event: 'call-ended', originator: e.originator, cause: e.cause });
				break;
			}
			case 'wait':
				await new Promise((r) => setTimeout(r, Number(arg) * 1000));
				break;
			case 'refused': {
				const r = await page.evaluate((w, u, p, ms) =>
				    phone.refused({ wss: w, uri: u, password: p }, ms),
				o.wss, o.uri, o.password || '', Number(arg) * 1000);
				out({ event: 'refused', closes: r.closes, registered: r.registered });
				if (r.registered || r.closes < 1)
					throw new Error(`not refused: ${JSON.stringify(r)}`);
				break;
			}
			case 'drop':
				await page.close({ runBeforeUnload: false });
				out({ event: 'dropped' });
				break;
			case 'unregister':
				await page.evaluate(() => phone.stop());
				await new Promise((r) => setTimeout(r, 300));
				break;
			}
		} catch (e) {
			failed = true;
			out({ event: 'fail', step: s, error: String(e && e.message || e) });
			break;
		}
	}
	if (o.screenshot) {
		try {
			await page.screenshot({ path: o.screenshot });
		} catch (e) { /* a picture is a bonus */ }
	}
	clearTimeout(timer);
	out({ event: 'done', ok: !failed });
	await cleanup();
	process.exit(failed ? 1 : 0);
}

main().catch((e) => {
	out({ event: 'fail', step: 'driver', error: String(e && e.stack || e) });
	process.exit(1);
});
