#include "server/client_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <charconv>
#include <filesystem>

#include "core/log.h"

namespace glyph::server {

namespace {

thread_local ClientConnection* current_connection = nullptr;

constexpr auto kDisconnectCheckInterval = std::chrono::milliseconds(250);

// The address and port of a socket address, as httplib's Request reports them.
bool address_and_port(const sockaddr_storage& address, std::string& text, int& port) {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto& ipv4 = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &ipv4.sin_addr, buffer, sizeof(buffer));
    port = ntohs(ipv4.sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto& ipv6 = reinterpret_cast<const sockaddr_in6&>(address);
    inet_ntop(AF_INET6, &ipv6.sin6_addr, buffer, sizeof(buffer));
    port = ntohs(ipv6.sin6_port);
  } else {
    return false;
  }
  text = buffer;
  return true;
}

}  // namespace

ClientConnection::ClientConnection(std::string remote_addr, int remote_port, int local_port)
    : remote_addr_(std::move(remote_addr)), remote_port_(remote_port), local_port_(local_port) {}

int ClientConnection::find_socket() const {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
    int fd = -1;
    const std::string name = entry.path().filename().string();
    if (std::from_chars(name.data(), name.data() + name.size(), fd).ec != std::errc()) continue;
    struct stat status {};
    if (fstat(fd, &status) != 0 || !S_ISSOCK(status.st_mode)) continue;

    sockaddr_storage peer{};
    sockaddr_storage local{};
    socklen_t peer_size = sizeof(peer);
    socklen_t local_size = sizeof(local);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0) continue;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0) continue;
    std::string peer_text;
    std::string local_text;
    int peer_port = -1;
    int local_port = -1;
    if (!address_and_port(peer, peer_text, peer_port) ||
        !address_and_port(local, local_text, local_port)) {
      continue;
    }
    if (peer_text == remote_addr_ && peer_port == remote_port_ && local_port == local_port_) {
      return fd;
    }
  }
  return -1;
}

bool ClientConnection::closed() {
  if (!searched_) {
    socket_ = find_socket();
    searched_ = true;
  }
  if (socket_ < 0) return false;
  char byte = 0;
  const ssize_t read = recv(socket_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  // 0: the peer closed its side. A reset connection reports an error other than "no data yet".
  return read == 0 || (read < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

ScopedClientConnection::ScopedClientConnection(ClientConnection& connection) {
  current_connection = &connection;
}

ScopedClientConnection::~ScopedClientConnection() { current_connection = nullptr; }

std::vector<engine::OutputEvent> wait_while_connected(engine::OutputChannel& channel) {
  while (true) {
    std::vector<engine::OutputEvent> events = channel.wait_for(kDisconnectCheckInterval);
    // Tokens may arrive faster than the interval, so the check runs by the clock.
    const auto now = std::chrono::steady_clock::now();
    if (current_connection && now - current_connection->last_check >= kDisconnectCheckInterval) {
      current_connection->last_check = now;
      if (!channel.cancelled() && current_connection->closed()) {
        log::debug("the client disconnected before the reply was complete; cancelling");
        channel.cancel();
      }
    }
    if (!events.empty()) return events;
  }
}

}  // namespace glyph::server
