// Checks SDP written by the IMS-ALG against the rules a browser's WebRTC stack applies,
// using the independent npm parser sdp-transform. Arguments: pairs <role> <file>, where role is
// `ue-offer`, `ue-answer` (SDP sent to the UE / WIC) or `core` (SDP sent to the IMS core).
// Prints a JSON array of {file, problems[]} and the number of media sections checked.
const t = require('sdp-transform');
const fs = require('fs');
const DIGEST = { 'sha-1': 20, 'sha-224': 28, 'sha-256': 32, 'sha-384': 48, 'sha-512': 64 };
const args = process.argv.slice(2);
const out = [];
let checked = 0;
for (let i = 0; i + 1 < args.length; i += 2) {
  const role = args[i];
  const file = args[i + 1];
  const s = t.parse(fs.readFileSync(file, 'utf8'));
  const p = [];
  if (!s.origin) p.push('no o=');
  if (!s.media || s.media.length === 0) p.push('no m=');
  for (const [k, m] of (s.media || []).entries()) {
    if (Number(m.port) === 0) continue;
    checked += 1;
    const at = `m-line ${k}: `;
    const fp = m.fingerprint || s.fingerprint;
    const setup = m.setup || s.setup;
    const ufrag = m.iceUfrag || s.iceUfrag;
    const pwd = m.icePwd || s.icePwd;
    if (role === 'core') {
      if (!['RTP/AVP', 'RTP/AVPF'].includes(m.protocol)) p.push(at + 'core proto ' + m.protocol);
      if (fp || setup || ufrag || pwd) p.push(at + 'DTLS/ICE attributes towards the core');
      continue;
    }
    if (!['UDP/TLS/RTP/SAVPF', 'UDP/TLS/RTP/SAVP'].includes(m.protocol)) p.push(at + 'proto ' + m.protocol);
    if (!fp) {
      p.push(at + 'no fingerprint');
    } else {
      const n = DIGEST[String(fp.type).toLowerCase()];
      if (!n) p.push(at + 'hash ' + fp.type);
      const hex = String(fp.hash);
      if (!/^([0-9A-Fa-f]{2}:)*[0-9A-Fa-f]{2}$/.test(hex)) p.push(at + 'fingerprint hex ' + hex);
      else if (n && hex.split(':').length !== n) p.push(at + 'fingerprint length');
    }
    const allowed = role === 'ue-offer' ? ['actpass'] : ['active', 'passive'];
    if (!allowed.includes(setup)) p.push(at + 'setup ' + setup);
    if (!ufrag || String(ufrag).length < 4) p.push(at + 'ice-ufrag ' + ufrag);
    if (!pwd || String(pwd).length < 22) p.push(at + 'ice-pwd ' + pwd);
    if (!m.rtcpMux && !(s.groups || []).some((g) => g.type === 'BUNDLE')) p.push(at + 'no rtcp-mux');
    if (!(m.candidates || []).length) p.push(at + 'no candidate');
  }
  out.push({ file, problems: p });
}
process.stdout.write(JSON.stringify({ checked, results: out }));
