// Preloaded into the CLI under test (NODE_OPTIONS=--import): once main() has set the exit code, records what still
// keeps the process alive. A timer or a socket left behind would hold the exit for as long as it lasts; counting
// event-loop turns instead of milliseconds keeps the check independent of the machine's speed.
import { writeFileSync } from 'node:fs';

const out = process.env['CGW_TEST_LINGER_FILE'];
// Resources that can hold a process for a long time; stdout/stderr pipes and file requests complete on their own.
const HOLDS = /^(Timeout|TCPSocketWrap|TCPServerWrap|TCPWRAP|ConnectWrap|UDPWRAP|GetAddrInfoReqWrap|HTTPINCOMINGMESSAGE)$/;
const TURNS = 50;

if (out) {
  let lingering: string[] = [];
  let started = false;
  const holds = () => process.getActiveResourcesInfo().filter((r) => HOLDS.test(r));
  const poll = setInterval(() => {
    if (started || process.exitCode === undefined) return;
    started = true;
    // A socket destroyed by main's last continuation closes within a turn or two; give it TURNS turns.
    let turn = 0;
    const check = () => {
      lingering = holds();
      if (lingering.length > 0 && ++turn < TURNS) setImmediate(check);
    };
    setImmediate(check);
  }, 5);
  poll.unref();
  process.on('exit', () => {
    // Reaching 'exit' at all means nothing held the loop; what was seen last is only a finding if it lasted TURNS turns.
    writeFileSync(out, JSON.stringify({ checked: started, lingering }) + '\n');
  });
}
