#!/usr/bin/env escript
%% -*- erlang -*-
%%! -noshell
%%
%% megaco_mgc.escript -- Erlang/OTP megaco as a scripted H.248 MGC for interop
%% tests (see README.md; `megaco_mgc.escript --help`).
%%
%% Loads megaco_peer*.erl from this directory (compiled on first use, see
%% megaco_peer_boot.hrl) and runs megaco_peer_mgc:main/1.  Needs only the
%% Debian erlang-base + erlang-megaco packages (tested with OTP 25,
%% megaco-4.4.2).

-include("megaco_peer_boot.hrl").

main(Args) ->
    boot(["megaco_peer", "megaco_peer_codec", "megaco_peer_mgc"], megaco_peer_mgc, Args).
