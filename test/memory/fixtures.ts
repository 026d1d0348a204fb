// Small source files in several languages, with definitions long enough to be chunks of their own.

const filler = (indent: string, n: number, word: string): string =>
  Array.from({ length: n }, (_, i) => `${indent}const ${word}Step${i} = ${i} * 2; // ${word} step ${i}`).join('\n');

export const TS_SCHEDULER = `// The scheduler: claims queued jobs.
import { randomUUID } from 'node:crypto';

export function claimJobs(queue: string[], limit: number): string[] {
${filler('  ', 8, 'claim')}
  return queue.slice(0, limit);
}

export class Scheduler {
  private readonly id = randomUUID();

  start(): void {
${filler('    ', 8, 'start')}
  }

  stop(): void {
${filler('    ', 8, 'stop')}
  }
}
`;

export const TS_CALLER = `// Uses the scheduler.
import { claimJobs } from './claim.js';

export function runLoop(queue: string[]): void {
${filler('  ', 8, 'loop')}
  const claimed = claimJobs(queue, 4);
  console.log(claimed, 'claimJobs returned');
}
`;

export const PY_CLI = `"""Command line parsing."""
import argparse


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="tool")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--name", default="world")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--output", default="-")
    parser.add_argument("--retries", type=int, default=3)
    return parser.parse_args(argv)


class Runner:
    def __init__(self, args):
        self.args = args
        self.count = args.count
        self.name = args.name
        self.verbose = args.verbose
        self.output = args.output
        self.retries = args.retries
        self.done = False

    def run(self):
        for i in range(self.count):
            print("hello", self.name, i)
            if self.verbose:
                print("verbose run", i)
            if self.retries:
                print("retries left", self.retries)
        self.done = True
        return self.done
`;

export const GO_SERVER = `package server

import "net/http"

type Server struct {
	Addr    string
	Handler http.Handler
	Name    string
	Port    int
	Debug   bool
	Workers int
	Queue   []string
}

func (s *Server) ListenAndServe() error {
	mux := http.NewServeMux()
	mux.Handle("/", s.Handler)
	srv := &http.Server{Addr: s.Addr, Handler: mux}
	if s.Debug {
		println("debug server", s.Name)
	}
	for i := 0; i < s.Workers; i++ {
		s.Queue = append(s.Queue, "worker")
	}
	return srv.ListenAndServe()
}
`;

export const MD_GUIDE = `# Guide

Intro to the tool, what it does and why.

## Installation

Run the installer with npm, then configure the token.
More words about installing the tool on a machine.

## Usage

Call the tool with --verbose to see more output.
More words about using the tool every day.
`;
