#include "connect_probe.h"

#include <gtest/gtest.h>

#include "batch_writer.h"
#include "offset_store.h"

namespace pgsink {

TEST(ConnectProbe, ColumnsOfTheTablesSluiceMakes) {
  EXPECT_EQ(defined_columns(kOffsetsTableColumns),
            (std::vector<std::string>{"consumer_group", "topic", "partition", "next_offset", "updated_at"}));
  EXPECT_EQ(defined_columns(kRejectsTableColumns),
            (std::vector<std::string>{"id", "consumer_group", "topic", "partition", "offset", "key", "raw_value",
                                      "reason", "rejected_at"}));
  EXPECT_EQ(defined_columns("a numeric(10, 2), CONSTRAINT c CHECK (a > 0), b text"),
            (std::vector<std::string>{"a", "b"}));
}

TEST(ConnectProbe, RecordsNoneOfWhichConvertFail) {
  TableSchema schema{"\"t\"", {{"lat", "boolean", ColumnKind::boolean, false, "lat"}}};
  sluice::ConnectProbe probe;
  probe.recent_records = {R"({"lat": 52.1})"};
  auto line = try_recent_records(schema, CopyFormat::binary, probe);
  EXPECT_FALSE(line.ok);
  EXPECT_NE(line.text.find("column lat (boolean): field `lat` is a number, expected a boolean"), std::string::npos)
      << line.text;
  probe.recent_records.push_back(R"({"lat": true})");
  line = try_recent_records(schema, CopyFormat::binary, probe);
  EXPECT_TRUE(line.ok) << line.text;
  probe.recent_records.clear();
  probe.records_note = "topic is empty";
  line = try_recent_records(schema, CopyFormat::binary, probe);
  EXPECT_TRUE(line.ok);
  EXPECT_NE(line.text.find("not tried: topic is empty"), std::string::npos) << line.text;
}

}  // namespace pgsink
