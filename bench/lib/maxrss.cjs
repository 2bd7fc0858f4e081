// Preloaded into a child process (node --require bench/lib/maxrss.cjs …) to report its peak
// memory: at exit, writes {maxRssKiB, …} as JSON to the file named by $PURENEURON_MAXRSS_FILE.
// maxRssKiB is getrusage(RUSAGE_SELF).ru_maxrss, in KiB: the peak resident set of the whole
// process, worker threads included (threads share the process's address space). Only the main
// thread registers the hook; the variable is removed from the environment so that no further
// child process inherits it.
'use strict';
const { isMainThread } = require('node:worker_threads');
const file = process.env.PURENEURON_MAXRSS_FILE;
if (file && isMainThread) {
  delete process.env.PURENEURON_MAXRSS_FILE;
  process.on('exit', (code) => {
    const u = process.resourceUsage();
    const m = process.memoryUsage();
    require('node:fs').writeFileSync(
      file,
      JSON.stringify({ maxRssKiB: u.maxRSS, rssAtExitBytes: m.rss, heapUsedAtExitBytes: m.heapUsed, externalAtExitBytes: m.external, arrayBuffersAtExitBytes: m.arrayBuffers, userCpuUs: u.userCPUTime, systemCpuUs: u.systemCPUTime, exitCode: code }) + '\n',
    );
  });
}
