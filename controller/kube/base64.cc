#include "kube/base64.h"

#include <openssl/evp.h>

#include <memory>

namespace kube {

std::string Base64Encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), int(in.size()));
  out.resize(n);
  return out;
}

std::optional<std::string> Base64Decode(std::string_view in) {
  // EVP_Decode* (unlike EVP_DecodeBlock) skips whitespace and line breaks and accounts
  // for padding, as PEM-style and kubeconfig data need.
  std::unique_ptr<EVP_ENCODE_CTX, decltype(&EVP_ENCODE_CTX_free)> ctx(EVP_ENCODE_CTX_new(),
                                                                      EVP_ENCODE_CTX_free);
  if (!ctx) return std::nullopt;
  EVP_DecodeInit(ctx.get());
  std::string out(in.size() / 4 * 3 + 3, '\0');
  int n = 0, tail = 0;
  if (EVP_DecodeUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n,
                       reinterpret_cast<const unsigned char*>(in.data()), int(in.size())) < 0) {
    return std::nullopt;
  }
  if (EVP_DecodeFinal(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n, &tail) < 0) {
    return std::nullopt;
  }
  out.resize(n + tail);
  return out;
}

}  // namespace kube
