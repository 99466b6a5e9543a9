/** This process's CPU time and peak resident memory from now until `stop()`. */
export function trackProcessUsage(sampleMs = 250): { stop(): { cpuSeconds: number; averageCores: number; peakRssMiB: number } } {
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  let peakRss = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, sampleMs);
  return {
    stop() {
      clearInterval(timer);
      const used = process.cpuUsage(cpu0);
      const cpuSeconds = (used.user + used.system) / 1e6;
      const round = (n: number) => Math.round(n * 100) / 100;
      return {
        cpuSeconds: round(cpuSeconds),
        averageCores: round(cpuSeconds / Math.max(0.001, (Date.now() - t0) / 1000)),
        peakRssMiB: Math.round(Math.max(peakRss, process.memoryUsage.rss()) / 2 ** 20),
      };
    },
  };
}
