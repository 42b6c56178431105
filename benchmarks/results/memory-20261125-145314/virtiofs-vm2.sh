cd /tmp
modprobe virtiofs || exit 10
mkdir -p /tmp/b && mount -t virtiofs -o ro bench /tmp/b || exit 11
cached() { awk '/^Cached:/ {print $2}' /proc/meminfo; }
sha256sum /dev/null >/dev/null; size=$(stat -c %s /tmp/b/file.bin)
echo "PCB-MEM ready cached_kb=$(cached) size=$size"
while [ ! -e '/work/main/benchmarks/results/memory-20261125-145314/go-virtiofs' ]; do sleep 0.2; done
t0=$(date +%s%N); sum=$(sha256sum /tmp/b/file.bin | cut -d' ' -f1); t1=$(date +%s%N)
echo "PCB-MEM done cached_kb=$(cached) read_ms=$(( (t1 - t0) / 1000000 )) sha256=$sum"
while [ ! -e '/work/main/benchmarks/results/memory-20261125-145314/release-virtiofs' ]; do sleep 0.2; done
