#!/usr/bin/env bash
# Installs what building and testing glyph.cpp needs on Debian 12, as root:
# the C++ libraries from Debian and the Python packages the integration tests use.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config \
  nlohmann-json3-dev libcpp-httplib-dev libpcre2-dev libcli11-dev libspdlog-dev libfmt-dev \
  libgtest-dev libssl-dev zlib1g-dev python3 python3-pip \
  libpng-dev libjpeg-dev libwebp-dev libgif-dev libfreetype-dev libharfbuzz-dev \
  libcurl4-openssl-dev \
  fonts-dejavu-core fonts-noto-cjk >/dev/null

# The integration tests drive the server with the official OpenAI client.
python3 -m pip install -q --disable-pip-version-check "openai>=1.40" "pytest>=7" "requests>=2.28"
