import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

// Loaded with `--require` through NODE_OPTIONS, which refuses `--cpu-prof` itself: profiles the whole
// process and writes the profile to CPU_PROFILE_FILE on SIGTERM (open it in Chrome DevTools). Not at
// exit: NestJS ends a SIGTERM'd app by raising the signal again, and no 'exit' event fires then.
const file = process.env.CPU_PROFILE_FILE;
if (file) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.prependOnceListener('SIGTERM', () => {
    // The in-process inspector answers synchronously, so the profile is written before the process ends.
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(file, JSON.stringify(result.profile));
    });
  });
}
