// Whether the client of a non-streaming request is still connected.
//
// A non-streaming reply writes nothing until it is complete, so a closed
// connection never shows up as a failed write. The server instead finds the
// request's socket (by its peer address and ports) and peeks at it: a peer
// that has closed reads as end-of-file.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace glyph::server {

class ClientConnection {
 public:
  ClientConnection(std::string remote_addr, int remote_port, int local_port);

  // True once the peer has closed the connection.
  bool closed();

  std::chrono::steady_clock::time_point last_check = std::chrono::steady_clock::now();

 private:
  int find_socket() const;

  std::string remote_addr_;
  int remote_port_;
  int local_port_;
  int socket_ = -1;
  bool searched_ = false;
};

// Marks the connection of the request this thread serves for as long as it lives.
class ScopedClientConnection {
 public:
  explicit ScopedClientConnection(ClientConnection& connection);
  ~ScopedClientConnection();
  ScopedClientConnection(const ScopedClientConnection&) = delete;
  ScopedClientConnection& operator=(const ScopedClientConnection&) = delete;
};

// Waits for a request's next events and cancels the request when the client
// of this thread's request has disconnected meanwhile (the engine then ends it
// with an abort event, which this returns).
std::vector<engine::OutputEvent> wait_while_connected(engine::OutputChannel& channel);

}  // namespace glyph::server
