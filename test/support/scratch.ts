// Where tests write: /dev/shm (memory) when it has room, else the OS temp dir. Tests need no
// durability (the servers run without fsync too), and on a disk the writes were a large part of
// the suite's time: the servers' data (initdb and pg_basebackup's fsyncs, WAL files filled with
// zeros, removing a replica's folder) and the copies of the generated tree. A container's
// /dev/shm is often 64 MB, too small: then the disk it is.
import { statfsSync } from "node:fs";
import { tmpdir } from "node:os";

export const scratchRoot = (() => {
  try {
    const fs = statfsSync("/dev/shm");
    return fs.bavail * fs.bsize >= 2 ** 30 ? "/dev/shm" : tmpdir();
  } catch {
    return tmpdir();
  }
})();
