#include "apiserver/machinery/rest_handler.h"

#include <charconv>

#include "apiserver/machinery/list_options.h"
#include "apiserver/machinery/render.h"
#include "apiserver/machinery/status.h"

namespace stash::apiserver {
namespace {

const std::vector<Representation> kObjectRepresentations = {
    Representation::kJson, Representation::kTable, Representation::kPartialMetadata};

Response JsonResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response JsonResponse(int status, PiecedText body) {
  Response r;
  r.status = status;
  r.pieces = std::move(body);
  return r;
}

// A quoted-string for a header: control characters (from file names in
// error messages) become spaces, so they can never end the header.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') out += '\\';
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  return out + "\"";
}

RenderOptions RenderFor(const MediaChoice& media, IncludeObject include) {
  RenderOptions r;
  r.media = media;
  r.include = include;
  r.now = NowSeconds();
  return r;
}

// Objects of the namespace that match the request's selectors, sorted.
std::vector<ObjectPtr> Select(const std::vector<ObjectPtr>& objects, const std::string& ns,
                              const ListOptions& options) {
  std::vector<ObjectPtr> out;
  for (const auto& o : objects) {
    if (MatchesListOptions(*o, ns, options)) out.push_back(o);
  }
  SortObjects(out);
  return out;
}

// Why a write is refused, in the resource's terms: "snapshots are created by
// backups; create is not supported". Empty for other verbs.
std::string WriteRefused(const ResourceInfo& r, const std::string& verb) {
  if (r.created_by.empty() || (verb != "create" && verb != "update" && verb != "patch")) return "";
  return r.plural + " are created by " + r.created_by + "; " + verb + " is not supported";
}

}  // namespace

void AddWarnings(Headers& headers, const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) headers.Add("Warning", "299 - " + Quote(w));
}

RestHandler::RestHandler(Storage& storage, ThreadPool& pool, WatchManager& watches, RestOptions options)
    : storage_(storage), pool_(pool), watches_(watches), options_(options) {}

void RestHandler::Handle(const RequestInfo& info, Request request, UserInfo user,
                         std::shared_ptr<Responder> responder) {
  const ResourceInfo& res = storage_.info();
  auto fail = [&](const ApiStatus& s) { responder->Send(StatusResponse(s)); };
  if (!info.subresource.empty()) return fail(PathNotFoundStatus());
  if (request.method != "GET" && request.method != "HEAD" && request.method != "DELETE") {
    return fail(MethodNotAllowedStatus(WriteRefused(res, info.verb)));
  }
  if (!res.HasVerb(info.verb)) return fail(MethodNotAllowedStatus());
  if (res.namespaced && info.name_from_path && info.ns.empty()) return fail(PathNotFoundStatus());
  if (info.verb == "deletecollection" && res.namespaced && info.ns.empty()) {
    return fail(MethodNotAllowedStatus());
  }
  MediaChoice media;
  if (request.method != "DELETE") {
    auto choice = Negotiate(request.headers.Get("Accept"), kObjectRepresentations);
    if (!choice) {
      return fail(NotAcceptableStatus(
          "application/json, application/json;as=Table;v=v1;g=meta.k8s.io, "
          "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"));
    }
    media = *choice;
  }
  if (info.verb == "watch") return Watch(info, request, media, std::move(responder));
  pool_.Submit([this, info, request = std::move(request), user = std::move(user), responder] {
    responder->Send(Serve(info, request, user));
  });
}

Response RestHandler::Serve(const RequestInfo& info, const Request& request, const UserInfo& user) {
  MediaChoice media;
  if (auto choice = Negotiate(request.headers.Get("Accept"), kObjectRepresentations)) media = *choice;
  if (info.verb == "list") return List(info, request, media);
  if (info.verb == "get") return Get(info, request, media);
  if (info.verb == "delete") return Delete(info, request, user);
  if (info.verb == "deletecollection") return DeleteCollection(info, request, user);
  return StatusResponse(MethodNotAllowedStatus());
}

Response RestHandler::List(const RequestInfo& info, const Request& request, const MediaChoice& media) {
  auto options = ParseListOptions(request.query);
  if (!options.ok()) return StatusResponse(BadRequestStatus(options.error().message()));
  ListResult result = storage_.List(info.ns, options->labels);
  // Selection in place, then the page as a range; the response points at
  // the objects' sealed bytes, and the connection copies them only as it
  // encrypts them (RenderListPieced).
  std::vector<ObjectPtr>& selected = result.objects;
  size_t kept = 0;
  for (size_t i = 0; i < selected.size(); ++i) {
    PrefetchObject(selected, i);
    if (!MatchesListOptions(*selected[i], info.ns, *options)) continue;
    if (kept != i) selected[kept] = std::move(selected[i]);
    ++kept;
  }
  selected.resize(kept);
  if (!result.sorted) SortObjects(selected);
  ListMeta meta;
  meta.resource_version = result.resource_version;
  auto range = PageRange(selected, *options, meta);
  if (!range.ok()) return StatusResponse(BadRequestStatus(range.error().message()));
  if (range->first != 0 || range->second != selected.size()) {
    selected = std::vector<ObjectPtr>(selected.begin() + static_cast<ptrdiff_t>(range->first),
                                      selected.begin() + static_cast<ptrdiff_t>(range->second));
  }
  Response r = JsonResponse(200, RenderListPieced(storage_.info(), storage_.columns(), std::move(selected), meta,
                                                  RenderFor(media, options->include)));
  AddWarnings(r.headers, result.warnings);
  return r;
}

Response RestHandler::Get(const RequestInfo& info, const Request& request, const MediaChoice& media) {
  auto options = ParseListOptions(request.query);
  if (!options.ok()) return StatusResponse(BadRequestStatus(options.error().message()));
  std::vector<std::string> warnings;
  auto object = storage_.Get(info.ns, info.name, warnings);
  const ResourceInfo& res = storage_.info();
  Response r = object.ok()
                   ? JsonResponse(200, RenderObject(res, storage_.columns(), *object,
                                                    RenderFor(media, options->include)))
                   : StatusResponse(StatusFromError(object.error(), res.group, res.plural, info.name));
  AddWarnings(r.headers, warnings);
  return r;
}

Response RestHandler::Delete(const RequestInfo& info, const Request& request, const UserInfo& user) {
  const ResourceInfo& res = storage_.info();
  auto options = ParseDeleteOptions(request);
  if (!options.ok()) {
    if (options.error().kind() == ErrorKind::kUnsupported) {
      return StatusResponse(UnsupportedMediaTypeStatus(options.error().message()));
    }
    return StatusResponse(BadRequestStatus(options.error().message()));
  }
  std::vector<std::string> warnings;
  auto object = storage_.Get(info.ns, info.name, warnings);
  if (!object.ok()) return StatusResponse(StatusFromError(object.error(), res.group, res.plural, info.name));
  Status pre = CheckPreconditions(*options, **object);
  if (!pre.ok()) return StatusResponse(StatusFromError(pre.error(), res.group, res.plural, info.name));
  RenderOptions render = RenderFor(MediaChoice{}, IncludeObject::kObject);
  if (options->dry_run) return JsonResponse(200, RenderObject(res, storage_.columns(), *object, render));
  auto deleted = storage_.Delete(*object, user);
  if (!deleted.ok()) return StatusResponse(StatusFromError(deleted.error(), res.group, res.plural, info.name));
  return JsonResponse(200, RenderObject(res, storage_.columns(), *deleted, render));
}

Response RestHandler::DeleteCollection(const RequestInfo& info, const Request& request,
                                       const UserInfo& user) {
  const ResourceInfo& res = storage_.info();
  auto options = ParseDeleteOptions(request);
  if (!options.ok()) {
    if (options.error().kind() == ErrorKind::kUnsupported) {
      return StatusResponse(UnsupportedMediaTypeStatus(options.error().message()));
    }
    return StatusResponse(BadRequestStatus(options.error().message()));
  }
  auto list_options = ParseListOptions(request.query);
  if (!list_options.ok()) return StatusResponse(BadRequestStatus(list_options.error().message()));
  ListResult result = storage_.List(info.ns, list_options->labels);
  // Preconditions hold for every object before any is removed; the
  // storage then removes them together (one lock per repository).
  std::vector<ObjectPtr> deleted = Select(result.objects, info.ns, *list_options);
  for (const auto& object : deleted) {
    Status pre = CheckPreconditions(*options, *object);
    if (!pre.ok()) return StatusResponse(StatusFromError(pre.error(), res.group, res.plural, object->meta.name));
  }
  if (!options->dry_run && !deleted.empty()) {
    std::string failed;
    auto gone = storage_.DeleteAll(deleted, user, failed);
    if (!gone.ok()) return StatusResponse(StatusFromError(gone.error(), res.group, res.plural, failed));
    deleted = std::move(*gone);
  }
  ListMeta meta;
  meta.resource_version = storage_.watch_hub().version();
  Response r = JsonResponse(200, RenderListPieced(res, storage_.columns(), std::move(deleted), meta,
                                                  RenderFor(MediaChoice{}, IncludeObject::kObject)));
  AddWarnings(r.headers, result.warnings);
  return r;
}

std::chrono::seconds RestHandler::WatchTimeout(const ListOptions& options) {
  if (options.timeout_seconds && *options.timeout_seconds > 0) {
    return std::chrono::seconds(*options.timeout_seconds);
  }
  std::lock_guard<std::mutex> lock(rng_mu_);
  int64_t min = options_.min_watch_timeout.count();
  return std::chrono::seconds(min + static_cast<int64_t>(rng_() % static_cast<uint64_t>(min > 0 ? min : 1)));
}

void RestHandler::Watch(const RequestInfo& info, const Request& request, const MediaChoice& media,
                        std::shared_ptr<Responder> responder) {
  pool_.Submit([this, info, query = request.query, media, responder] {
    auto options = ParseListOptions(query);
    if (!options.ok()) return responder->Send(StatusResponse(BadRequestStatus(options.error().message())));
    const std::string& rv = options->resource_version;
    bool initial = rv.empty() || rv == "0" || options->send_initial_events;
    uint64_t from = 0;
    std::vector<ObjectPtr> objects;
    std::vector<std::string> warnings;
    if (initial) {
      ListResult list = storage_.List(info.ns, options->labels);
      from = list.resource_version;
      objects = Select(list.objects, info.ns, *options);
      warnings = std::move(list.warnings);
    } else {
      auto [end, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), from);
      if (ec != std::errc() || end != rv.data() + rv.size()) {
        return responder->Send(StatusResponse(BadRequestStatus(
            "resourceVersion: Invalid value: \"" + rv + "\": must be a number")));
      }
    }
    Headers headers;
    AddWarnings(headers, warnings);
    auto writer = responder->Stream(200, media.content_type, std::move(headers));
    auto deadline = WatchSession::Clock::now() + WatchTimeout(*options);
    auto session = std::make_shared<WatchSession>(storage_, info.ns, *options, RenderFor(media, options->include),
                                                  writer, deadline);
    for (const auto& o : objects) session->Send(WatchEvent{WatchEvent::kAdded, o});
    session->Start(storage_.watch_hub(), from);
    watches_.Add(std::move(session));
  });
}

}  // namespace stash::apiserver
