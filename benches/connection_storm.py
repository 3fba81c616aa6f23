"""Connection storm against a release `smishd serve`: the server's RSS before, at the peak of
N silent connections (a tenth send half an HTTP/2 preface), and after the handshake timeout
closed them, three rounds. Loopback only.

    python3 benches/connection_storm.py target/release/smishd rules [N]
"""
import os, socket, subprocess, sys, time, resource

binary, rules = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 15000
resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],)*2)
def rss(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"):
            return int(l.split()[1]) / 1024
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
p = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--rules", rules,
                      "--model", "none", "--handshake-timeout-ms", "3000",
                      "--max-connections", "30000", "--reload-poll-ms", "0"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(2)
base = rss(p.pid); c0 = cpu(p.pid)
print(f"baseline RSS {base:.1f} MiB")
for rnd in range(3):
    socks = []
    t = time.time()
    for i in range(n):
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            # Some send half a preface, most nothing.
            if i % 10 == 0:
                c.send(b"PRI * HTTP/2.0\r\n")
            socks.append(c)
        except OSError as e:
            pass
    time.sleep(1)
    peak = rss(p.pid)
    time.sleep(9)  # handshake timeout 3 s, then a trim pass (every 5 s)
    after = rss(p.pid)
    for c in socks: c.close()
    time.sleep(1)
    print(f"round {rnd+1}: {len(socks)} silent connections; RSS peak {peak:.1f} MiB, after the timeout {after:.1f} MiB, after close {rss(p.pid):.1f} MiB")
print(f"daemon CPU over the storm: {cpu(p.pid)-c0:.2f} s")
p.terminate(); print("exit", p.wait())
