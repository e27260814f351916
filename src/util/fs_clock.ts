/**
 * Time as the shared file system keeps it, for liveness that must not depend on the clocks of
 * two hosts agreeing. A heartbeat written on a compute node whose clock is ten minutes off
 * still gets the file system's time as its mtime when it is written (not `utime` with the
 * node's own time), and a reader on another host compares it with the time the same file
 * system gives a file it writes itself: both times come from one clock.
 * @module
 */

/**
 * Refreshes `path`'s mtime with the file system's own clock, by writing its first byte again
 * (the same byte: a reader never sees other content). False when the file is gone or cannot
 * be written; it is never created.
 */
export async function touchByWrite(path: string): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true, write: true });
  } catch {
    return false;
  }
  try {
    const first = new Uint8Array(1);
    if ((await file.read(first)) !== 1) return false;
    await file.seek(0, Deno.SeekMode.Start);
    await file.write(first);
    return true;
  } catch {
    return false;
  } finally {
    file.close();
  }
}

/**
 * The file system's time now, in ms since the epoch, as the mtime of a file created in `dir`
 * (and removed at once); undefined when no file can be made there (a read-only or full file
 * system): then no age can be measured, and callers must not judge by one.
 */
export async function fsNow(dir: string): Promise<number | undefined> {
  let path: string | undefined;
  try {
    path = await Deno.makeTempFile({ dir, prefix: ".clock-" });
    return (await Deno.lstat(path)).mtime?.getTime();
  } catch {
    return undefined;
  } finally {
    if (path) await Deno.remove(path).catch(() => {});
  }
}
