// The plain Bun UDP echo server: the runtime's own ceiling for a datagram in, a datagram out.
//   bun bench/support/bun-udp-echo.ts PORT    (prints "ready"; stops on SIGTERM)
const port = Number(process.argv[2]);
await Bun.udpSocket({
  hostname: "127.0.0.1",
  port,
  socket: {
    data(s, data, rport, address) {
      s.send(data, rport, address);
    },
  },
});
console.log("ready");
export {};
