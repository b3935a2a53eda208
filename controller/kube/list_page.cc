#include "kube/list_page.h"

#include <vector>

#include "kube/error.h"

namespace kube {
namespace {

// nlohmann's SAX interface, building the DOM as json::parse would, except that an
// element of the top-level "items" array leaves the DOM as soon as it is complete.
class ListPageSax {
 public:
  ListPageSax(const std::function<void(json)>& on_item, bool skip_managed_fields)
      : on_item_(on_item), skip_managed_fields_(skip_managed_fields) {}

  bool null() { return skipping_ ? SkipScalar() : Scalar(nullptr); }
  bool boolean(bool v) { return skipping_ ? SkipScalar() : Scalar(v); }
  bool number_integer(json::number_integer_t v) { return skipping_ ? SkipScalar() : Scalar(v); }
  bool number_unsigned(json::number_unsigned_t v) { return skipping_ ? SkipScalar() : Scalar(v); }
  bool number_float(json::number_float_t v, const json::string_t&) {
    return skipping_ ? SkipScalar() : Scalar(v);
  }
  bool string(json::string_t& v) { return skipping_ ? SkipScalar() : Scalar(std::move(v)); }
  bool binary(json::binary_t& v) {
    return skipping_ ? SkipScalar() : Scalar(json::binary(std::move(v)));
  }
  bool start_object(std::size_t) {
    if (skipping_) return SkipOpen();
    stack_.push_back(Add(json::object()));
    return true;
  }
  bool key(json::string_t& k) {
    if (skipping_) return true;
    if (stack_.size() == 1) top_key_ = k;
    // Depth 3 is an item's own members; depth 4 the members of its metadata.
    if (items_ && stack_.size() == 3) item_key_ = k;
    if (skip_managed_fields_ && items_ && stack_.size() == 4 && item_key_ == "metadata" &&
        k == "managedFields") {
      skipping_ = true;
      skip_depth_ = 0;
      return true;
    }
    member_ = &(*stack_.back())[k];
    return true;
  }
  bool end_object() {
    if (skipping_) return SkipClose();
    stack_.pop_back();
    return Completed();
  }
  bool start_array(std::size_t) {
    if (skipping_) return SkipOpen();
    json* a = Add(json::array());
    if (stack_.size() == 1 && top_key_ == "items") items_ = a;
    stack_.push_back(a);
    return true;
  }
  bool end_array() {
    if (skipping_) return SkipClose();
    stack_.pop_back();
    return Completed();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    error_ = e.what();
    return false;
  }

  json& root() { return root_; }
  const std::string& error() const { return error_; }

 private:
  // Passing over one value: nested opens and closes are counted until it ends.
  bool SkipScalar() {
    if (skip_depth_ == 0) skipping_ = false;
    return true;
  }
  bool SkipOpen() {
    ++skip_depth_;
    return true;
  }
  bool SkipClose() {
    if (--skip_depth_ == 0) skipping_ = false;
    return true;
  }
  template <class V>
  bool Scalar(V&& v) {
    Add(json(std::forward<V>(v)));
    return Completed();
  }
  // Places a new value where the parser is: the root, the next element of the open
  // array, or the member whose key came last.
  json* Add(json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json* parent = stack_.back();
    if (parent->is_array()) {
      auto& a = parent->get_ref<json::array_t&>();
      a.push_back(std::move(v));
      return &a.back();
    }
    *member_ = std::move(v);
    return member_;
  }
  // A value just ended: if it is an element of "items", hand it out.
  bool Completed() {
    if (!items_ || stack_.empty() || stack_.back() != items_ || items_->empty()) return true;
    auto& a = items_->get_ref<json::array_t&>();
    if (!a.back().is_object()) {
      error_ = "a list item is not an object";
      return false;
    }
    json item = std::move(a.back());
    a.pop_back();
    on_item_(std::move(item));
    return true;
  }

  const std::function<void(json)>& on_item_;
  const bool skip_managed_fields_;
  bool skipping_ = false;
  int skip_depth_ = 0;
  std::string item_key_;
  json root_;
  std::vector<json*> stack_;  // the open objects and arrays, innermost last
  json* member_ = nullptr;
  json* items_ = nullptr;
  std::string top_key_, error_;
};

}  // namespace

json ParseListPage(std::string_view body, const std::function<void(json item)>& on_item,
                   bool skip_managed_fields) {
  ListPageSax sax(on_item, skip_managed_fields);
  bool ok = json::sax_parse(body.begin(), body.end(), &sax);
  if (!ok || !sax.root().is_object()) {
    throw Error(ErrorKind::kProtocol,
                "list: the answer is not a JSON list" +
                    (sax.error().empty() ? std::string() : ": " + sax.error()));
  }
  return std::move(sax.root());
}

}  // namespace kube
