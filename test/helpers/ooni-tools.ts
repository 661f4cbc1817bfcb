/**
 * OONI's bulk-file writers, run in Python as OONI runs them: postcans as
 * ooni/backend's api/ooni_api_uploader.py fills them (`tarfile.open(…,
 * "w:gz")`, one `.post` per upload), autoclaved tar cans (Python 2's
 * tarfile: GNU format), and a large postcan written from memory.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

const OONI_TOOLS = `
import io, json, os, sys, tarfile
job = json.load(open(sys.argv[1]))
os.chdir(job['root'])
if job['kind'] == 'postcan':   # ooni_api_uploader.fill_postcan
    with tarfile.open(job['out'], 'w:gz' if job['gzip'] else 'w') as tar:
        for rel in job['files']:
            tar.add(rel)
elif job['kind'] == 'can':     # autoclaving.autoclave_tar (Python 2's tarfile: GNU format)
    with tarfile.open(job['out'], 'w', format=tarfile.GNU_FORMAT) as tar:
        for rel in job['files']:
            tar.add(rel)
elif job['kind'] == 'big':     # a large postcan, written from memory
    posts = [open(p, 'rb').read() for p in job['posts']]
    with tarfile.open(job['out'], 'w:gz', compresslevel=1) as tar:
        for i in range(job['count']):
            data = posts[i % len(posts)]
            info = tarfile.TarInfo('var/lib/ooniapi/measurements/incoming/2024030100_IR_webconnectivity/%08d.post' % i)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
print(json.dumps(tarfile.open(job['out']).getnames() if job['kind'] != 'big' else []))
`

/** The commands the writers need that this machine lacks (.ci/system-deps installs them). */
export function missingOoniTools(): string[] {
  return ['python3', 'lz4'].filter(cmd => {
    try {
      execFileSync(cmd, ['--version'], { stdio: 'ignore' })
      return false
    } catch {
      return true
    }
  })
}

/** Runs one job of OONI's writers (its files go under dir); returns the names the archive holds. */
export function ooniWrite(dir: string, job: Record<string, unknown>): string[] {
  const f = join(dir, `job-${Math.random().toString(36).slice(2)}.json`)
  writeFileSync(f, JSON.stringify(job))
  const py = join(dir, 'ooni_tools.py')
  writeFileSync(py, OONI_TOOLS)
  return JSON.parse(execFileSync('python3', [py, f], { encoding: 'utf8', maxBuffer: 64 << 20 })) as string[]
}
