// Structural syntax checks of the rendered device files. No npm package parses Cisco IOS, Junos, FortiOS, VRP,
// Comware or strongswan.conf syntax (searched: swanctl, strongswan, vici, junos, fortios, cisco-ios, comware), so
// these check what a paste would trip over: unbalanced blocks and quotes, commands outside their view, stray
// characters. strongSwan's own parser reads every rendered swanctl.conf in negotiation.test.ts; `sh -n` reads the
// XFRM interface script here.

export type Check = (text: string) => string[];

function lines(text: string): string[] {
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

function common(text: string): string[] {
  const out: string[] = [];
  if (!text.endsWith('\n')) out.push('no final newline');
  lines(text).forEach((l, i) => {
    if (/[^\x20-\x7e]/.test(l)) out.push(`line ${i + 1}: a character outside printable ASCII`);
    if (/\s$/.test(l)) out.push(`line ${i + 1}: trailing whitespace`);
  });
  return out;
}

/** Double quotes balanced on a line (a backslash escapes the next character). */
function quotesBalanced(l: string): boolean {
  let inside = false;
  for (let i = 0; i < l.length; i++) {
    if (inside && l[i] === '\\') i++;
    else if (l[i] === '"') inside = !inside;
  }
  return !inside;
}

/** strongswan.conf / swanctl.conf: `name {` … `}` blocks balanced, `key = value` with a bare or quoted value. */
export const strongswanConf: Check = (text) => {
  const out = common(text);
  let depth = 0;
  lines(text).forEach((l, i) => {
    const t = l.trim();
    if (t === '' || t.startsWith('#')) return;
    if (/^[A-Za-z0-9_.-]+ \{$/.test(t)) depth++;
    else if (t === '}') depth--;
    else if (/^include \S+$/.test(t)) return;
    else {
      const m = /^([A-Za-z0-9_-]+) = (.*)$/.exec(t);
      if (!m) out.push(`line ${i + 1}: neither a section, a key = value nor a comment`);
      else {
        const v = m[2] as string;
        if (v.startsWith('"') ? !(v.endsWith('"') && v.length >= 2 && quotesBalanced(v)) : /[\s#{}"=]/.test(v)) {
          out.push(`line ${i + 1}: a value with special characters outside quotes`);
        }
      }
    }
    if (depth < 0) out.push(`line ${i + 1}: "}" without a section`);
  });
  if (depth !== 0) out.push(`${depth} section(s) left open`);
  return out;
};

/** FRR: `router bgp` … `exit` with `address-family` … `exit-address-family` inside; `!` comments. */
export const frrConf: Check = (text) => {
  const out = common(text);
  let inRouter = false;
  let inAf = false;
  lines(text).forEach((l, i) => {
    const t = l.trim();
    if (t === '' || t.startsWith('!')) return;
    if (/^router bgp \d+$/.test(l)) inRouter = true;
    else if (l === 'exit') inRouter = false;
    else if (/^ address-family /.test(l)) inAf = true;
    else if (l === ' exit-address-family') inAf = false;
    else if (!inRouter || (l.startsWith('  ') && !inAf) || !l.startsWith(' ')) out.push(`line ${i + 1}: a command outside its block`);
  });
  if (inRouter || inAf) out.push('a block left open');
  return out;
};

/** Cisco IOS: top-level commands, one-space sub-commands under a mode-entering command, `!` comments, `end`. */
export const ciscoIos: Check = (text) => {
  const out = common(text);
  const modes = /^(crypto (isakmp policy|keyring|isakmp profile|ikev2 (proposal|policy|keyring|profile)|ipsec (transform-set|profile)|map \S+ \d+ ipsec-isakmp)|interface|ip access-list extended|router bgp)\b/;
  let mode = '';
  let all = lines(text);
  if (all[all.length - 1] !== 'end') out.push('does not close with end');
  all = all.slice(0, -1);
  all.forEach((l, i) => {
    if (l.startsWith('!')) return;
    if (!l.startsWith(' ')) mode = modes.test(l) ? l : '';
    else if (!mode) out.push(`line ${i + 1}: a sub-command outside a configuration mode`);
    else if (/^  \S/.test(l) && !/^(crypto ikev2 keyring|router bgp)/.test(mode)) out.push(`line ${i + 1}: a nested sub-command where none is possible`);
  });
  return out;
};

/** Huawei VRP and H3C Comware: `#` separators/comments, commands entering a view, one-space sub-commands. */
export const vrpLike: Check = (text) => {
  const out = common(text);
  const all = lines(text);
  if (all[all.length - 1] !== 'return') out.push('does not close with return');
  let view = false;
  all.slice(0, -1).forEach((l, i) => {
    if (l.startsWith('#')) {
      view = false;
      return;
    }
    if (!l.startsWith(' ')) view = true;
    else if (!view) out.push(`line ${i + 1}: a sub-command outside a view`);
    if (l.includes('"')) out.push(`line ${i + 1}: a double quote (VRP and Comware strings are bare words)`);
  });
  return out;
};

/** Junos `set` format: every line a `set` command or a `#` comment, quotes balanced. */
export const junosSet: Check = (text) => {
  const out = common(text);
  lines(text).forEach((l, i) => {
    if (l.startsWith('#')) return;
    if (!/^set [a-z]/.test(l)) out.push(`line ${i + 1}: not a set command`);
    if (!quotesBalanced(l)) out.push(`line ${i + 1}: unbalanced quotes`);
  });
  return out;
};

/** FortiOS CLI script: config/end and edit/next nested properly, `set` only inside a config, quotes balanced. */
export const fortiosScript: Check = (text) => {
  const out = common(text);
  const stack: string[] = [];
  lines(text).forEach((l, i) => {
    const t = l.trim();
    if (t.startsWith('#') || t === '') return;
    if (!quotesBalanced(t)) out.push(`line ${i + 1}: unbalanced quotes`);
    if (t.startsWith('config ')) stack.push('config');
    else if (t.startsWith('edit ')) {
      if (stack[stack.length - 1] !== 'config') out.push(`line ${i + 1}: edit outside a config`);
      stack.push('edit');
    } else if (t === 'next') {
      if (stack.pop() !== 'edit') out.push(`line ${i + 1}: next without edit`);
    } else if (t === 'end') {
      if (stack.pop() !== 'config') out.push(`line ${i + 1}: end without config`);
    } else if (t.startsWith('set ') || t.startsWith('unset ')) {
      if (stack.length === 0) out.push(`line ${i + 1}: set outside a config`);
    } else out.push(`line ${i + 1}: not a FortiOS CLI command`);
  });
  if (stack.length !== 0) out.push(`${stack.length} block(s) left open`);
  return out;
};

/** The check for each rendered file name. */
export const CHECKS: Record<string, Check> = {
  'swanctl.conf': strongswanConf,
  'strongswan.conf': strongswanConf,
  'frr.conf': frrConf,
  'cisco-ios.txt': ciscoIos,
  'huawei-vrp.txt': vrpLike,
  'h3c-comware.txt': vrpLike,
  'juniper-srx.set': junosSet,
  'fortigate.conf': fortiosScript,
};
