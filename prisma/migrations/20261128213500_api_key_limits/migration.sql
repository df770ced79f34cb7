-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN     "requests_per_minute" INTEGER,
ADD COLUMN     "tokens_per_minute" INTEGER;

