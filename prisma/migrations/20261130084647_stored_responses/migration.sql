-- CreateTable
CREATE TABLE "responses" (
    "id" TEXT NOT NULL,
    "tenant_id" UUID NOT NULL,
    "body" JSONB NOT NULL,
    "conversation" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "responses_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "responses_tenant_id_created_at_idx" ON "responses"("tenant_id", "created_at");

-- AddForeignKey
ALTER TABLE "responses" ADD CONSTRAINT "responses_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

