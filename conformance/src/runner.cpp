// Runs conformance cases in worker processes. Each worker builds the target once, then takes case
// indices from the parent one at a time and answers each with a result record. A worker that dies
// fails the case it was running as a crash (with the ABI calls in flight and a backtrace, from its
// crash reporter); a case past its time is asked which ABI calls it is in (SIGUSR1), then killed and
// failed as a timeout. Either way a fresh worker takes the next case.
#include "switchyard/conformance/runner.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>

#include "worker_protocol.h"

namespace switchyard::conformance {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string fmt_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

// Runs one case in this process: exceptions become failures.
CaseResult run_one(const CaseSpec& spec, const Target& target) {
  const auto start = Clock::now();
  CaseResult r;
  try {
    r = spec.run(target);
  } catch (const std::exception& e) {
    r.outcome = Outcome::failed, r.reason = "exception", r.detail = e.what();
  } catch (...) {
    r.outcome = Outcome::failed, r.reason = "exception", r.detail = "an exception that is not a std::exception";
  }
  r.suite = spec.suite, r.name = spec.name;
  if (r.op.empty()) r.op = spec.op;
  r.seconds = seconds_since(start);
  return r;
}

// Counts each finished case and reports it to RunOptions::progress: one tally for both modes.
class ProgressTally {
 public:
  ProgressTally(size_t total, const RunOptions& options) : options_(options) { progress_.total = total; }
  void count(const CaseResult& r) {
    ++progress_.done;
    (r.outcome == Outcome::passed ? progress_.passed : r.outcome == Outcome::failed ? progress_.failed : progress_.skipped)++;
    progress_.elapsed_s = seconds_since(start_);
    if (options_.progress) options_.progress(r, progress_);
  }

 private:
  const RunOptions& options_;
  Progress progress_;
  Clock::time_point start_ = Clock::now();
};

// The worker process: never returns.
[[noreturn]] void worker_main(const std::vector<CaseSpec>& cases, const TargetFactory& factory, int commands, int results) {
  worker::install_crash_reporter(results);
  std::string out;
  auto target = factory();
  if (!target.ok()) {
    worker::append_record(out, worker::unavailable, {target.status().to_string()});
    worker::write_all(results, out.data(), out.size());
    ::_exit(0);
  }
  uint32_t index = 0;
  while (::read(commands, &index, sizeof index) == static_cast<ssize_t>(sizeof index) && index < cases.size()) {
    CaseResult r = run_one(cases[index], *target);
    out.clear();
    worker::append_record(out, worker::result, {std::to_string(static_cast<int>(r.outcome)), r.reason, r.detail, r.op});
    if (!worker::write_all(results, out.data(), out.size())) break;
  }
  std::fflush(stdout);
  ::_exit(0);
}

struct Worker {
  pid_t pid = -1;
  int commands = -1, results = -1;
  std::string buffer;
  long running = -1;  // index into the run's case list, -1 when idle
  Clock::time_point started;
  std::vector<std::string> abi_calls;
  std::string backtrace;
  bool asked_to_report = false;
  Clock::time_point asked_at;
};

Result<Worker> start_worker(const std::vector<CaseSpec>& cases, const TargetFactory& factory) {
  int to_worker[2], from_worker[2];
  // Commands go over a socket so that sending to a dead worker fails (MSG_NOSIGNAL) instead of raising SIGPIPE.
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, to_worker) != 0)
    return Status(StatusCode::internal, std::string("socketpair() failed: ") + std::strerror(errno));
  if (::pipe(from_worker) != 0) {
    ::close(to_worker[0]), ::close(to_worker[1]);
    return Status(StatusCode::internal, std::string("pipe() failed: ") + std::strerror(errno));
  }
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid < 0) return Status(StatusCode::internal, std::string("fork() failed: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(to_worker[1]), ::close(from_worker[0]);
    worker_main(cases, factory, to_worker[0], from_worker[1]);
  }
  ::close(to_worker[0]), ::close(from_worker[1]);
  Worker w;
  w.pid = pid, w.commands = to_worker[1], w.results = from_worker[0];
  return w;
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : sep) + p;
  return s;
}

// The result of the case a worker was running when it died or was killed.
CaseResult lost_case(const CaseSpec& spec, const Worker& w, int wait_status, bool timed_out, double timeout) {
  CaseResult r;
  r.suite = spec.suite, r.name = spec.name, r.op = spec.op;
  r.outcome = Outcome::failed;
  r.seconds = seconds_since(w.started);
  if (!w.abi_calls.empty()) r.abi_call = w.abi_calls.front();
  const std::string where = w.abi_calls.empty() ? "outside any plugin ABI call" : "in " + join(w.abi_calls, ", in ");
  if (timed_out) {
    r.reason = "timeout";
    r.detail = "did not finish within " + fmt_seconds(timeout) + " s; it was " + where;
    return r;
  }
  r.reason = "crash";
  r.backtrace = w.backtrace;
  if (WIFSIGNALED(wait_status))
    r.detail = "the case process died of signal " + std::to_string(WTERMSIG(wait_status)) + " (" + strsignal(WTERMSIG(wait_status)) + ") " + where;
  else
    r.detail = "the case process exited with status " + std::to_string(WEXITSTATUS(wait_status)) + " without a result, " + where;
  return r;
}

}  // namespace

namespace {

class WorkerPool {
 public:
  WorkerPool(const std::vector<CaseSpec>& cases, std::vector<size_t> todo, const TargetFactory& factory, const RunOptions& options)
      : cases_(cases), todo_(std::move(todo)), factory_(factory), options_(options), results_(cases.size()), tally_(todo_.size(), options) {}
  Result<std::vector<CaseResult>> run();

 private:
  Status start_workers();
  void assign_or_finish(Worker& w);
  void read_from(Worker& w, bool& closed);
  void take_records(Worker& w);
  void enforce_timeout(Worker& w);
  void retire(Worker& w);
  void record(size_t index, CaseResult r);

  const std::vector<CaseSpec>& cases_;
  std::vector<size_t> todo_;
  size_t next_ = 0;
  const TargetFactory& factory_;
  const RunOptions& options_;
  std::vector<Worker> workers_;
  std::vector<std::optional<CaseResult>> results_;
  ProgressTally tally_;
  std::optional<Status> unavailable_;
};

Status WorkerPool::start_workers() {
  const size_t wanted = std::min(static_cast<size_t>(std::max(1, options_.jobs)), todo_.size());
  while (workers_.size() < wanted && next_ < todo_.size()) {
    SY_ASSIGN_OR_RETURN(Worker w, start_worker(cases_, factory_));
    workers_.push_back(std::move(w));
    assign_or_finish(workers_.back());
  }
  return Status();
}

// Gives an idle worker the next case, or closes its command pipe (it then exits) when none is left.
void WorkerPool::assign_or_finish(Worker& w) {
  w.running = -1;
  if (next_ >= todo_.size() || unavailable_) {
    if (w.commands >= 0) ::close(w.commands), w.commands = -1;
    return;
  }
  const uint32_t index = static_cast<uint32_t>(todo_[next_++]);
  w.running = index;
  w.started = Clock::now();
  w.abi_calls.clear(), w.backtrace.clear();
  if (::send(w.commands, &index, sizeof index, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof index))
    ::kill(w.pid, SIGKILL);  // the worker is gone: its death fails the case below
}

void WorkerPool::read_from(Worker& w, bool& closed) {
  char buf[65536];
  ssize_t n = ::read(w.results, buf, sizeof buf);
  if (n > 0) w.buffer.append(buf, static_cast<size_t>(n));
  else if (n == 0 || errno != EINTR) closed = true;
  take_records(w);
}

void WorkerPool::take_records(Worker& w) {
  for (auto& [type, fields] : worker::take_records(w.buffer)) {
    if (type == worker::abi_calls) w.abi_calls = fields;
    else if (type == worker::backtrace && !fields.empty()) w.backtrace = fields[0];
    else if (type == worker::unavailable) {
      unavailable_ = Status(StatusCode::unavailable, fields.empty() ? "" : fields[0]);
      w.running = -1;  // not lost: every case is reported unavailable
    }
    else if (type == worker::result && fields.size() == 4 && w.running >= 0) {
      CaseResult r;
      r.suite = cases_[w.running].suite, r.name = cases_[w.running].name;
      r.outcome = static_cast<Outcome>(std::stoi(fields[0]));
      r.reason = fields[1], r.detail = fields[2];
      r.op = fields[3].empty() ? cases_[w.running].op : fields[3];
      r.seconds = seconds_since(w.started);
      record(static_cast<size_t>(w.running), std::move(r));
      assign_or_finish(w);
    }
  }
}

// Past its time, a case is first asked (SIGUSR1) which ABI calls it is in, then killed.
void WorkerPool::enforce_timeout(Worker& w) {
  if (w.running < 0) return;
  if (!w.asked_to_report && seconds_since(w.started) > options_.case_timeout_s) {
    ::kill(w.pid, SIGUSR1);
    w.asked_to_report = true, w.asked_at = Clock::now();
  } else if (w.asked_to_report && seconds_since(w.asked_at) > 2) {
    ::kill(w.pid, SIGKILL);
  }
}

// Reaps a worker whose pipe closed; fails the case it was running, if any.
void WorkerPool::retire(Worker& w) {
  int status = 0;
  while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (w.commands >= 0) ::close(w.commands);
  ::close(w.results);
  if (w.running >= 0) record(static_cast<size_t>(w.running), lost_case(cases_[w.running], w, status, w.asked_to_report, options_.case_timeout_s));
}

void WorkerPool::record(size_t index, CaseResult r) {
  tally_.count(r);
  results_[index] = std::move(r);
}

Result<std::vector<CaseResult>> WorkerPool::run() {
  while (!unavailable_ && (next_ < todo_.size() || !workers_.empty())) {
    SY_RETURN_IF_ERROR(start_workers());
    std::vector<pollfd> fds;
    for (const auto& w : workers_) fds.push_back({w.results, POLLIN, 0});
    ::poll(fds.data(), fds.size(), 100);
    for (size_t i = workers_.size(); i-- > 0;) {
      bool closed = false;
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) read_from(workers_[i], closed);
      if (!closed) enforce_timeout(workers_[i]);
      if (closed) {
        retire(workers_[i]);
        workers_.erase(workers_.begin() + static_cast<long>(i));
      }
    }
  }
  for (auto& w : workers_) ::kill(w.pid, SIGKILL), retire(w);
  if (unavailable_) return *unavailable_;
  std::vector<CaseResult> results;
  for (auto& r : results_)
    if (r) results.push_back(std::move(*r));
  return results;
}

Result<std::vector<CaseResult>> run_in_process(const std::vector<CaseSpec>& cases, const std::vector<size_t>& todo,
                                               const TargetFactory& factory, const RunOptions& options) {
  SY_ASSIGN_OR_RETURN(Target target, factory());
  std::vector<CaseResult> results;
  ProgressTally tally(todo.size(), options);
  for (size_t index : todo) {
    results.push_back(run_one(cases[index], target));
    tally.count(results.back());
  }
  return results;
}

// FNV-1a: stable across runs, builds and platforms (std::hash is not).
uint64_t stable_hash(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

bool Shard::contains(const CaseSpec& c) const {
  return count <= 1 || static_cast<int>(stable_hash(c.suite + "/" + c.name) % static_cast<uint64_t>(count)) + 1 == index;
}

Result<Shard> parse_shard(const std::string& text) {
  Shard s;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%d/%d%c", &s.index, &s.count, &extra) != 2 || s.count < 1 || s.index < 1 || s.index > s.count)
    return Status(StatusCode::invalid_argument, "--shard '" + text + "': expected K/N with 1 <= K <= N (e.g. 2/4)");
  return s;
}

Result<std::vector<CaseResult>> run_cases(const std::vector<CaseSpec>& cases, const TargetFactory& factory, const RunOptions& options) {
  std::vector<size_t> todo;
  for (size_t i = 0; i < cases.size(); ++i)
    if (options.shard.contains(cases[i])) todo.push_back(i);
  if (todo.empty()) return std::vector<CaseResult>();
  if (!options.isolate) return run_in_process(cases, todo, factory, options);
  return WorkerPool(cases, std::move(todo), factory, options).run();
}

}  // namespace switchyard::conformance
