// Parse SDFormat files with libsdformat, the parser Gazebo itself uses, and print every error
// it reports, or the world's model names. Exit 1 when any file has an error.
#include <iostream>
#include <sdf/sdf.hh>

int main(int argc, char **argv) {
  int failed = 0;
  for (int i = 1; i < argc; ++i) {
    sdf::Root root;
    const sdf::Errors errors = root.Load(argv[i]);
    for (const auto &error : errors) {
      std::cout << "error " << argv[i] << ": " << error.Message() << "\n";
    }
    if (!errors.empty()) {
      failed = 1;
      continue;
    }
    for (uint64_t w = 0; w < root.WorldCount(); ++w) {
      const sdf::World *world = root.WorldByIndex(w);
      for (uint64_t m = 0; m < world->ModelCount(); ++m) {
        std::cout << "model " << world->ModelByIndex(m)->Name() << "\n";
      }
    }
  }
  return failed;
}
