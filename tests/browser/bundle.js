'use strict';
// bundle.js - make one browser script of an npm package written as CommonJS
// (jssip 3.13 ships no browser bundle): every module reachable by require()
// from the entry, wrapped in a function, with a small require() of its own.
//
//   node bundle.js [PACKAGE [GLOBAL]]   prints the bundle (default: jssip JsSIP)
//   require('./bundle').bundle(pkg, globalName) -> string
//
// Resolution: relative paths (with .js, .json, /index.js), package names
// under node_modules (the package's "browser" field wins over "main" when it
// is a string; an object "browser" field maps files). A require() of
// anything else (a Node built-in) is an error at bundle time, so a package
// update that pulls one in fails loudly here and not in the page.

const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, 'node_modules');

function isFile(p) {
	try {
		return fs.statSync(p).isFile();
	} catch (e) {
		return false;
	}
}

function asFile(p) {
	for (const c of [p, p + '.js', p + '.json', path.join(p, 'index.js')])
		if (isFile(c)) return c;
	return null;
}

function pkgDir(file) {
	let d = path.dirname(file);
	while (d.startsWith(ROOT) && d !== ROOT) {
		if (isFile(path.join(d, 'package.json'))) return d;
		d = path.dirname(d);
	}
	return null;
}

function browserMap(file) {
	const d = pkgDir(file);
	if (!d) return null;
	const pj = JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8'));
	return typeof pj.browser === 'object' && pj.browser ? { dir: d, map: pj.browser } : null;
}

function resolvePackage(name) {
	const parts = name.split('/');
	const pname = name.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
	const rest = name.slice(pname.length + 1);
	const d = path.join(ROOT, pname);
	if (!isFile(path.join(d, 'package.json'))) return null;
	if (rest) return asFile(path.join(d, rest));
	const pj = JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8'));
	const main = typeof pj.browser === 'string' ? pj.browser : pj.main || 'index.js';
	return asFile(path.join(d, main));
}

function resolve(from, spec) {
	let f;
	if (spec.startsWith('./') || spec.startsWith('../'))
		f = asFile(path.resolve(path.dirname(from), spec));
	else
		f = resolvePackage(spec);
	if (!f) throw new Error(`bundle: cannot resolve '${spec}' from ${from}`);
	const bm = browserMap(f);
	if (bm) {
		const rel = './' + path.relative(bm.dir, f);
		const to = bm.map[rel] ?? bm.map[rel.replace(/\.js$/, '')];
		if (to === false) return null;
		if (typeof to === 'string') f = asFile(path.join(bm.dir, to));
	}
	return f;
}

const REQ = /\brequire\(\s*(['"])([^'"]+)\1\s*\)/g;

function bundle(pkg = 'jssip', globalName = 'JsSIP') {
	const ids = new Map(); // file -> id
	const out = [];
	const todo = [];
	const entry = resolvePackage(pkg);
	if (!entry) throw new Error(`bundle: no package ${pkg} (run npm ci)`);
	ids.set(entry, 0);
	todo.push(entry);
	while (todo.length) {
		const file = todo.shift();
		const id = ids.get(file);
		let src = fs.readFileSync(file, 'utf8');
		const deps = {};
		if (file.endsWith('.json')) {
			src = 'module.exports = ' + src + ';';
		} else {
			for (const m of src.matchAll(REQ)) {
				const spec = m[2];
				if (spec in deps) continue;
				const f = resolve(file, spec);
				if (f === null) {
					deps[spec] = -1;
					continue;
				}
				if (!ids.has(f)) {
					ids.set(f, ids.size);
					todo.push(f);
				}
				deps[spec] = ids.get(f);
			}
		}
		out[id] = `[function (require, module, exports) {\n${src}\n}, ${JSON.stringify(deps)}]`;
	}
	return `// ${pkg} for the browser, made by tests/browser/bundle.js\n` +
	    `(function () {\nconst mods = [\n${out.join(',\n')}\n];\n` +
	    'const cache = [];\n' +
	    'function load(id) {\n' +
	    '\tif (id < 0) return {};\n' +
	    '\tif (cache[id]) return cache[id].exports;\n' +
	    '\tconst m = cache[id] = { exports: {} };\n' +
	    '\tconst [fn, deps] = mods[id];\n' +
	    '\tfn((s) => { if (!(s in deps)) throw new Error("bundle: " + s); return load(deps[s]); }, m, m.exports);\n' +
	    '\treturn m.exports;\n' +
	    '}\n' +
	    `window.${globalName} = load(0);\n})();\n`;
}

module.exports = { bundle };

if (require.main === module)
	process.stdout.write(bundle(process.argv[2], process.argv[3]));
